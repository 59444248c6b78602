"""Two-factor sign-in: required for coordinators and the like in production, optional for
others, with backup codes, throttling, a coordinator's reset, and the audit log."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from iap_portal.models import AuditEvent

PASSWORD = "correct horse battery"
REQUIRED = {"IAP_TWO_FACTOR_REQUIRED": True}


def sign_in(client, user, next_url=None):
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(url, data)


def code(device, drift=0):
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def set_up(client, user):
    """Sign in and connect an authenticator; returns the device and the backup codes."""
    sign_in(client, user)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=user)
    response = client.post(reverse("two_factor_setup"), {"token": code(device)})
    assert response.status_code == 200
    codes = re.findall(r'<li class="col">(\w+)</li>', response.content.decode())
    return device, codes


@pytest.mark.django_db
class TestRequiredRoles:
    def test_it_sends_a_coordinator_without_an_authenticator_to_set_one_up(
        self, client, cast, settings
    ):
        settings.IAP_TWO_FACTOR_REQUIRED = True
        response = sign_in(client, cast.coordinator)
        assert response.status_code == 302
        home = client.get(reverse("home"))
        assert home.status_code == 302
        assert home.url.startswith(reverse("two_factor_setup"))
        # Pupil data stays closed until the second factor is set up.
        pupils = client.get(reverse("student_list"))
        assert pupils["Location"].startswith(reverse("two_factor_setup"))
        page = client.get(home.url)
        assert page.status_code == 200
        assert reverse("student_list") not in page.content.decode()  # no menu until then
        assert "many pupils" in page.content.decode() or "daudzu" in page.content.decode()

    @pytest.mark.parametrize("role", ["social_pedagogue", "municipality", "agency"])
    def test_it_requires_it_of_every_role_that_sees_many_pupils(self, client, cast, settings, role):
        settings.IAP_TWO_FACTOR_REQUIRED = True
        sign_in(client, getattr(cast, role))
        assert client.get(reverse("home"))["Location"].startswith(reverse("two_factor_setup"))

    @pytest.mark.parametrize("role", ["class_teacher", "specialist"])
    def test_it_leaves_it_optional_for_teachers_and_specialists(self, client, cast, settings, role):
        settings.IAP_TWO_FACTOR_REQUIRED = True
        sign_in(client, getattr(cast, role))
        assert client.get(reverse("home")).status_code == 200

    def test_the_demo_does_not_require_it(self, client, cast, settings):
        settings.IAP_TWO_FACTOR_REQUIRED = False
        sign_in(client, cast.coordinator)
        assert client.get(reverse("home")).status_code == 200

    def test_it_is_required_by_default_in_production(self):
        import os
        import subprocess
        import sys

        env = {**os.environ, "IAP_ENV": "production", "DJANGO_SECRET_KEY": "x" * 60}
        env.pop("IAP_TWO_FACTOR_REQUIRED", None)
        env["DJANGO_ALLOWED_HOSTS"] = "iap.example.lv"
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django, os;"
                "os.environ.setdefault('DJANGO_SETTINGS_MODULE','iap_portal.settings');"
                "django.setup();"
                "from django.conf import settings;"
                "print(settings.IAP_TWO_FACTOR_REQUIRED)",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "True"


@pytest.mark.django_db
class TestSetup:
    def test_it_turns_on_with_a_code_from_the_app_and_shows_ten_backup_codes(
        self, client, cast, settings
    ):
        settings.IAP_TWO_FACTOR_REQUIRED = True
        sign_in(client, cast.coordinator, next_url="/students/")
        page = client.get(reverse("two_factor_setup") + "?next=/students/")
        key = re.search(r'id="totp-key">([A-Z2-7 ]+)<', page.content.decode()).group(1)
        device = TOTPDevice.objects.get(user=cast.coordinator, confirmed=False)
        from base64 import b32decode

        compact = key.replace(" ", "")
        assert b32decode(compact + "=" * (-len(compact) % 8)) == device.bin_key
        qr = client.get(reverse("two_factor_qr"))
        assert qr["Content-Type"] == "image/svg+xml"
        assert b"<svg" in qr.content

        wrong = client.post(reverse("two_factor_setup"), {"token": "000000"})
        if code(device) != "000000":
            assert wrong.status_code == 200
            assert not TOTPDevice.objects.get(pk=device.pk).confirmed
            # Straight after a wrong code even the right one waits (throttling).
            throttled = client.post(reverse("two_factor_setup"), {"token": code(device)})
            assert throttled.status_code == 200
            assert not TOTPDevice.objects.get(pk=device.pk).confirmed
        settings.OTP_TOTP_THROTTLE_FACTOR = 0

        done = client.post(
            reverse("two_factor_setup"), {"token": code(device), "next": "/students/"}
        )
        codes = re.findall(r'<li class="col">(\w+)</li>', done.content.decode())
        assert len(codes) == 10 and len(set(codes)) == 10
        assert TOTPDevice.objects.get(pk=device.pk).confirmed
        assert 'href="/students/"' in done.content.decode()
        assert client.get(reverse("student_list")).status_code == 200
        # The QR code of a confirmed authenticator is never shown again.
        assert client.get(reverse("two_factor_qr")).status_code == 404
        assert AuditEvent.objects.filter(
            user=cast.coordinator, action=AuditEvent.Action.TWO_FACTOR_CHANGE, detail="turned on"
        ).exists()

    def test_it_refuses_a_code_that_is_not_six_digits(self, client, cast):
        sign_in(client, cast.class_teacher)
        client.get(reverse("two_factor_setup"))
        response = client.post(reverse("two_factor_setup"), {"token": "12ab"})
        assert response.status_code == 200
        assert response.context["form"].errors["token"]
        assert not TOTPDevice.objects.filter(user=cast.class_teacher, confirmed=True).exists()


@pytest.mark.django_db
class TestSignIn:
    def test_it_asks_for_a_code_after_the_password_and_then_opens_the_page_asked_for(
        self, client, cast, settings
    ):
        settings.IAP_TWO_FACTOR_REQUIRED = True
        device, _codes = set_up(client, cast.coordinator)
        client.post(reverse("logout"))

        sign_in(client, cast.coordinator, next_url="/plans/")
        response = client.get("/plans/")
        assert response["Location"].startswith(reverse("two_factor_verify"))
        assert "next=/plans/" in response["Location"]
        before = client.session.session_key
        done = client.post(
            reverse("two_factor_verify"), {"token": code(device, 1), "next": "/plans/"}
        )
        assert done.status_code == 302 and done["Location"] == "/plans/"
        assert client.session.session_key != before  # rotated at the new privilege level
        assert client.get("/plans/").status_code == 200
        assert AuditEvent.objects.filter(
            user=cast.coordinator, action=AuditEvent.Action.TWO_FACTOR, detail="ok"
        ).exists()

    def test_it_asks_for_a_code_of_an_optional_user_who_turned_it_on(self, client, cast):
        device, _codes = set_up(client, cast.class_teacher)
        client.post(reverse("logout"))
        sign_in(client, cast.class_teacher)
        assert client.get(reverse("home"))["Location"].startswith(reverse("two_factor_verify"))

    def test_a_wrong_code_is_refused_logged_and_then_throttled(self, client, cast):
        device, _codes = set_up(client, cast.class_teacher)
        client.post(reverse("logout"))
        sign_in(client, cast.class_teacher)
        right = code(device, 1)
        wrong = "999999" if right != "999999" else "111111"
        response = client.post(reverse("two_factor_verify"), {"token": wrong})
        assert response.status_code == 200
        assert response.context["form"].errors["token"]
        assert AuditEvent.objects.filter(
            username=cast.class_teacher.username, action=AuditEvent.Action.TWO_FACTOR_FAILED
        ).exists()
        # Straight after a failure even the right code must wait: guessing is slowed down.
        throttled = client.post(reverse("two_factor_verify"), {"token": right})
        assert throttled.status_code == 200
        assert client.get(reverse("home")).status_code == 302

    def test_a_backup_code_works_once(self, client, cast, settings):
        settings.OTP_STATIC_THROTTLE_FACTOR = 0
        settings.OTP_TOTP_THROTTLE_FACTOR = 0
        _device, codes = set_up(client, cast.class_teacher)
        client.post(reverse("logout"))
        sign_in(client, cast.class_teacher)
        done = client.post(reverse("two_factor_verify"), {"token": codes[0].upper()})
        assert done.status_code == 302
        assert client.get(reverse("home")).status_code == 200
        assert StaticToken.objects.filter(device__user=cast.class_teacher).count() == 9
        client.post(reverse("logout"))
        sign_in(client, cast.class_teacher)
        again = client.post(reverse("two_factor_verify"), {"token": codes[0]})
        assert again.status_code == 200
        assert client.get(reverse("home")).status_code == 302

    def test_it_never_redirects_off_site_after_the_code(self, client, cast, settings):
        settings.OTP_TOTP_THROTTLE_FACTOR = 0
        device, _codes = set_up(client, cast.class_teacher)
        client.post(reverse("logout"))
        sign_in(client, cast.class_teacher)
        done = client.post(
            reverse("two_factor_verify"),
            {"token": code(device, 1), "next": "https://evil.example/"},
        )
        assert done["Location"] == reverse("home")


@pytest.mark.django_db
class TestManage:
    def test_new_backup_codes_replace_the_old_ones(self, client, cast):
        _device, codes = set_up(client, cast.class_teacher)
        response = client.post(reverse("two_factor_backup_codes"))
        new = re.findall(r'<li class="col">(\w+)</li>', response.content.decode())
        assert len(new) == 10
        tokens = set(
            StaticToken.objects.filter(device__user=cast.class_teacher).values_list(
                "token", flat=True
            )
        )
        assert tokens == set(new) and not tokens & set(codes)

    def test_an_optional_user_can_turn_it_off_after_confirming(self, client, cast):
        set_up(client, cast.class_teacher)
        assert client.get(reverse("two_factor_disable")).status_code == 200
        assert TOTPDevice.objects.filter(user=cast.class_teacher).exists()
        client.post(reverse("two_factor_disable"))
        assert not TOTPDevice.objects.filter(user=cast.class_teacher).exists()
        assert not StaticToken.objects.filter(device__user=cast.class_teacher).exists()

    def test_a_required_user_cannot_turn_it_off(self, client, cast, settings):
        settings.IAP_TWO_FACTOR_REQUIRED = True
        set_up(client, cast.coordinator)
        response = client.post(reverse("two_factor_disable"))
        assert response["Location"] == reverse("two_factor")
        assert TOTPDevice.objects.filter(user=cast.coordinator, confirmed=True).exists()

    def test_a_coordinator_resets_a_colleagues_lost_authenticator(self, client, cast):
        from django.test import Client

        teacher_client = Client()
        set_up(teacher_client, cast.class_teacher)
        assert teacher_client.get(reverse("home")).status_code == 200

        client.force_login(cast.coordinator)
        staff = client.get(reverse("staff_list")).content.decode()
        membership = cast.class_teacher.memberships.get()
        reset_url = reverse("two_factor_reset", args=[membership.pk])
        assert reset_url in staff
        assert client.get(reset_url).status_code == 200  # a confirmation first
        assert TOTPDevice.objects.filter(user=cast.class_teacher).exists()
        assert client.post(reset_url).status_code == 302
        assert not TOTPDevice.objects.filter(user=cast.class_teacher).exists()
        # The teacher's sessions ended with it.
        assert teacher_client.get(reverse("home")).url.startswith(reverse("login"))
        assert AuditEvent.objects.filter(
            user=cast.coordinator,
            action=AuditEvent.Action.TWO_FACTOR_CHANGE,
            school=membership.school,
        ).exists()

    def test_the_settings_page_tells_the_state(self, client, cast):
        sign_in(client, cast.class_teacher)
        off = client.get(reverse("two_factor")).content.decode()
        assert reverse("two_factor_setup") in off
        set_up(client, cast.class_teacher)
        on = client.get(reverse("two_factor")).content.decode()
        assert reverse("two_factor_backup_codes") in on
        assert reverse("two_factor_disable") in on
