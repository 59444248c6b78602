"""Browser tests: Playwright drives the system Chromium against Django's live server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told it is safe (the tests only set up data).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


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
