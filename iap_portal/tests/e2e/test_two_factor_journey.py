"""A coordinator's first sign-in in production: set up the authenticator, keep the backup
codes, and sign in again with a code — in a real browser, keyboard and screen reader checks."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp

from conftest import build_cast

from .helpers import PASSWORD, check_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def code_for(key, drift=0):
    compact = key.replace(" ", "")
    secret = b32decode(compact + "=" * (-len(compact) % 8))
    return f"{totp(secret, drift=drift):06d}"


def test_a_coordinator_sets_up_two_factor_sign_in_and_uses_it(page, live_server, settings, shots):
    settings.IAP_TWO_FACTOR_REQUIRED = True
    cast = build_cast()
    cast.coordinator.set_password(PASSWORD)
    cast.coordinator.save()
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/two-factor/setup/"))
    page.locator("img.two-factor-qr").wait_for()
    assert page.evaluate("document.querySelector('img.two-factor-qr').naturalWidth") > 0
    check_page(page, shots, "2fa-setup")

    key = page.locator("#totp-key").inner_text()
    page.fill("#id_token", code_for(key))
    page.keyboard.press("Enter")
    page.locator("#backup-codes").wait_for()
    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == 10
    check_page(page, shots, "2fa-backup-codes")
    page.locator("main a.btn-primary").click()
    page.wait_for_url(f"{base}/")

    # Next time: password, then the code.
    page.context.clear_cookies()
    page.goto(f"{base}/plans/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/two-factor/verify/"))
    check_page(page, shots, "2fa-verify")
    page.fill("#id_token", code_for(key, drift=1))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/plans/")
