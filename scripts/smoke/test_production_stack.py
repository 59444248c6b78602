"""The production smoke test's journey (scripts/smoke-production.sh starts the stack: nginx
with TLS, gunicorn and a task worker from deploy/, PostgreSQL, IAP_ENV=production).

Through https://127.0.0.1:<port>, with Chromium trusting the self-signed certificate: a class
teacher draws up and submits a plan; the coordinator sets up two-factor sign-in, signs in with
a code, approves the plan, downloads its PDF and the report's spreadsheet, and has the task
worker prepare the semester's bundle. Checked on the way: HSTS, the secure ``__Host-`` cookies,
the Content-Security-Policy, ``no-store`` on personal pages, static files served by nginx with
long cache headers, and the client's real address in the audit log.

Not part of `make test` (it needs the stack); run `make smoke`. It runs without Django's
settings (`-p no:django --noconftest`): everything it learns, it learns over https, and from the
stack's own database through deploy/bin/iap-manage."""

import http.client
import io
import json
import os
import re
import ssl
import subprocess
import zipfile
from base64 import b32decode
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django_otp.oath import totp
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BASE = os.environ.get("SMOKE_BASE", "")
CHROMIUM = "/usr/bin/chromium"
PASSWORD = os.environ.get("SMOKE_PASSWORD", "")
HSTS = "max-age=31536000; includeSubDomains; preload"

pytestmark = pytest.mark.skipif(not BASE, reason="needs the stack: run `make smoke`")


def fetch(path, base=BASE, headers=None, method="GET"):
    """One request outside the browser, trusting only the smoke test's certificate."""
    url = urlsplit(base)
    if url.scheme == "https":
        context = ssl.create_default_context(cafile=os.environ["SMOKE_CA"])
        connection = http.client.HTTPSConnection(url.hostname, url.port, context=context)
    else:
        connection = http.client.HTTPConnection(url.hostname, url.port)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def manage(*args):
    """A management command on the stack's database, with its environment (iap-manage)."""
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(ROOT / "deploy" / "bin" / "iap-manage"), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def audit_addresses(username):
    """The addresses of the user's audit events that came from a request (the task worker's
    have none), and how many such events there are."""
    out = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "import json; from iap_portal.models import AuditEvent; "
        f"ips = list(AuditEvent.objects.filter(username={username!r}, ip__isnull=False)"
        ".values_list('ip', flat=True)); print(json.dumps([sorted(set(ips)), len(ips)]))",
    )
    return json.loads(out.strip().splitlines()[-1])


def code_for(key, drift=0):
    compact = key.replace(" ", "")
    secret = b32decode(compact + "=" * (-len(compact) % 8))
    return f"{totp(secret, drift=drift):06d}"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                # Trust exactly the smoke test's certificate (by its public key), nothing else.
                f"--ignore-certificate-errors-spki-list={os.environ['SMOKE_SPKI']}",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    blocked = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page
    context.close()
    assert not blocked, blocked


def shot(page, name):
    folder = Path(os.environ.get("SMOKE_ARTIFACTS", ROOT / "test-artifacts" / "smoke"))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def browser_get(page, path):
    """A download by the browser itself (its connection trusts the certificate; Playwright's
    own request client would not): status, headers and the first bytes."""
    return page.evaluate(
        """async url => {
            const r = await fetch(url, {credentials: "same-origin"});
            const body = new Uint8Array(await r.arrayBuffer());
            return {status: r.status, type: r.headers.get("content-type"),
                    cache: r.headers.get("cache-control"), size: body.length,
                    head: String.fromCharCode(...body.slice(0, 4))};
        }""",
        BASE + path,
    )


def sign_in(page, username):
    page.goto(f"{BASE}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()


def test_plain_http_is_sent_to_https():
    response, _ = fetch("/plans/", base=os.environ["SMOKE_HTTP"])
    assert response.status == 301
    assert response.getheader("Location").startswith("https://127.0.0.1")


def test_the_sign_in_page_is_hardened():
    response, body = fetch("/accounts/login/")
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == HSTS
    csp = response.getheader("Content-Security-Policy")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.getheader("X-Frame-Options") == "DENY"
    cookies = response.headers.get_all("Set-Cookie")
    csrf = next(c for c in cookies if c.startswith("__Host-csrftoken="))
    assert "Secure" in csrf and "Path=/" in csrf and "Domain" not in csrf
    assert b'lang="lv"' in body


def test_static_files_come_from_nginx_with_long_cache_headers():
    _, body = fetch("/accounts/login/")
    css = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', body).group(1).decode()
    response, content = fetch(css, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and content
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.getheader("Content-Encoding") == "gzip"  # collectstatic's .gz copy
    assert response.getheader("Strict-Transport-Security") == HSTS
    # Django would add its policy header: nginx answered alone.
    assert response.getheader("Content-Security-Policy") is None
    assert response.getheader("Server") == "nginx"
    plain, _ = fetch("/static/css/app.css")
    assert plain.getheader("Cache-Control") == "public, max-age=3600"
    log = Path(os.environ["SMOKE_TMP"], "gunicorn.log").read_text()
    assert "/static/" not in log, "gunicorn served a static file"
    assert fetch("/media/anything")[0].status == 404


def test_the_journey_through_the_production_stack(page):
    # A class teacher (no two-factor requirement) draws up a plan and submits it.
    sign_in(page, "class_teacher")
    page.wait_for_url(f"{BASE}/")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["__Host-sessionid"]
    assert session["secure"] and session["httpOnly"] and session["path"] == "/"
    assert session["domain"] == "127.0.0.1"  # host-only: no Domain attribute
    assert "sessionid" not in cookies
    page.locator("main a[href$='/plans/new/']").first.click()
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/plans/\d+/edit/$"))
    plan_url = page.url.removesuffix("edit/")
    page.fill("#id_plan-goals", "Apmeklēt skolu katru dienu")
    page.fill("#id_plan-parent_application_date", "2026-09-01")
    page.select_option("#id_risks-0-risk_factor", index=1)
    page.select_option("#id_risks-0-level", "high")
    page.fill("#id_risks-0-justification", "18 neattaisnotas stundas oktobrī")
    with page.expect_navigation():
        page.locator("button[name=continue]").click()
    page.select_option("#id_measures-0-measure_type", "consultation")
    page.select_option("#id_measures-0-specialist_type", index=1)
    page.select_option("#id_measures-0-responsible", index=1)
    page.fill("#id_measures-0-planned_hours", "6")
    page.locator("input[name='measures-0-risk_factors']").first.check()
    with page.expect_navigation():
        page.locator("main form button[type=submit]:not([name])").click()
    assert page.url == plan_url, page.locator(".invalid-feedback").all_inner_texts()
    plan_id = plan_url.rstrip("/").rsplit("/", 1)[1]
    with page.expect_navigation():
        page.locator(f"form[action='/plans/{plan_id}/submit/'] button").click()
    shot(page, "01-teacher-submitted")
    assert "Saskaņošanā" in page.locator("h1").inner_text()
    page.context.clear_cookies()

    # The coordinator's first sign-in in production: set up the authenticator.
    sign_in(page, "coordinator")
    page.wait_for_url(re.compile(r"/accounts/two-factor/setup/"))
    key = page.locator("#totp-key").inner_text()
    page.fill("#id_token", code_for(key))
    page.keyboard.press("Enter")
    page.locator("#backup-codes").wait_for()
    assert len(page.locator("#backup-codes li").all_inner_texts()) == 10
    shot(page, "02-backup-codes")
    page.locator("main a.btn-primary").click()
    page.wait_for_url(f"{BASE}/")
    # Then as every day: password and a code (the next one: a code is used once).
    page.context.clear_cookies()
    page.goto(f"{BASE}/plans/queue/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/two-factor/verify/"))
    page.fill("#id_token", code_for(key, drift=1))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{BASE}/plans/queue/")

    # A page that claims to come through another proxy: the application ignores the claim.
    page.context.set_extra_http_headers({"X-Forwarded-For": "203.0.113.7"})
    response = page.goto(plan_url)
    page.context.set_extra_http_headers({})
    assert "no-store" in response.headers["cache-control"]
    assert response.headers["strict-transport-security"] == HSTS
    shot(page, "03-plan-to-approve")
    with page.expect_navigation():
        page.locator(f"form[action='/plans/{plan_id}/approve/'] button").click()
    assert "Saskaņošanā" not in page.locator("h1").inner_text()

    # The plan's PDF.
    pdf_link = page.locator("a[href$='/pdf/']").first.get_attribute("href")
    pdf = browser_get(page, pdf_link)
    assert pdf["status"] == 200 and pdf["type"] == "application/pdf" and pdf["head"] == "%PDF"
    assert "no-store" in pdf["cache"]

    # The participation report as a spreadsheet.
    page.goto(f"{BASE}/reports/participation/")
    with page.expect_download() as download:
        page.locator("a[href*='format=xlsx']").first.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as handle:
        assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(handle.read())).namelist()

    # The semester's plans as one PDF: queued, built by the task worker, downloaded.
    page.goto(f"{BASE}/reports/bundles/")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/reports/bundles/" in page.url
    ready = page.locator("#bundle-progress a[href$='/pdf/']")
    ready.wait_for(timeout=60_000)
    shot(page, "04-bundle-ready")
    bundle = browser_get(page, ready.get_attribute("href"))
    assert bundle["status"] == 200 and bundle["head"] == "%PDF", bundle
    assert bundle["size"] > 10_000

    # Every event names the browser's address (127.0.0.1), which nginx appended: neither
    # nginx's own (it connects from SMOKE_PROXY_ADDRESS) nor the one the browser made up.
    for username in ("coordinator", "class_teacher"):
        addresses, events = audit_addresses(username)
        assert addresses == ["127.0.0.1"] and events >= 3, (username, addresses, events)
    assert os.environ["SMOKE_PROXY_ADDRESS"] != "127.0.0.1"
