"""Browser tests: Playwright drives the system Chromium against Django's live server."""

import os
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told it is safe (the tests only set up data).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def fresh_content_types():
    """Forget the content type ids this process remembers, before and after a journey.

    After an earlier transactional test a journey starts on an emptied database that is not
    filled again: the copy ``serialized_rollback`` restores is kept on the connection object
    that created the test database, and the journey's code sees another one (Playwright's
    sync API runs it in a greenlet with its own context), which has none. So the content
    types a journey needs (every ContentChange names one) are created anew with new ids; ids
    remembered from an earlier test would point at missing rows (an IntegrityError when a
    journey edits a plan or a claim), and the journey's ids would be wrong for the tests
    after it, which get the restored rows again."""
    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Chromium is missing: install it with `apt-get install chromium` "
            "(make test does this when it runs as root)."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture
def shots(request):
    """Save a screenshot per step under test-artifacts/<test name>/."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(page, name):
        counter["n"] += 1
        page.screenshot(path=folder / f"{counter['n']:02d}-{name}.png", full_page=True)

    return take


@pytest.fixture(autouse=True)
def no_policy_violations(page):
    """Fail a journey if the browser blocked anything under the Content-Security-Policy."""
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    yield
    assert not blocked, blocked
