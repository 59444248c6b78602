"""Sign-in behind the TLS proxy: the real client address, lockouts that an attacker elsewhere
cannot cause, a limit on password spraying, and on password-reset e-mails.

The proxy is simulated as nginx does it: the request comes from 127.0.0.1 and nginx appends
the address it saw to whatever X-Forwarded-For the client sent.
"""

from datetime import timedelta

import pytest
from axes.models import AccessFailureLog
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import ResetRequest
from accounts.throttle import address_wait
from iap_portal.clientip import client_ip
from iap_portal.models import AuditEvent
from students.tests.factories import UserFactory

PASSWORD = "correct horse battery"  # the factories' password


def through_proxy(client_address, sent_by_client=""):
    """What the app server receives from nginx for a client at ``client_address``."""
    chain = f"{sent_by_client}, {client_address}" if sent_by_client else client_address
    return {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": chain}


@pytest.fixture
def behind_proxy(settings):
    settings.IAP_PROXY_COUNT = 1
    settings.IAP_TRUSTED_PROXIES = ["127.0.0.1", "::1"]


def sign_in(client, username, password, meta):
    return client.post(reverse("login"), {"username": username, "password": password}, **meta)


# --- The client's address -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        (through_proxy("203.0.113.9"), "203.0.113.9"),
        # What the client wrote into the header stands left of nginx's entry: ignored.
        (through_proxy("203.0.113.9", sent_by_client="198.51.100.1"), "203.0.113.9"),
        (through_proxy("203.0.113.9", sent_by_client="1.1.1.1, 2.2.2.2"), "203.0.113.9"),
        # Straight to the app server, from a machine that is not the proxy: the header is
        # the client's own word and is ignored.
        ({"REMOTE_ADDR": "198.51.100.20", "HTTP_X_FORWARDED_FOR": "1.1.1.1"}, "198.51.100.20"),
        ({"REMOTE_ADDR": "127.0.0.1"}, "127.0.0.1"),
    ],
)
def test_the_client_address_is_the_one_the_trusted_proxy_saw(behind_proxy, meta, expected):
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_without_a_proxy_the_header_is_never_believed(settings):
    settings.IAP_PROXY_COUNT = 0
    request = RequestFactory().get("/", **through_proxy("203.0.113.9"))
    assert client_ip(request) == "127.0.0.1"


def test_two_proxies_take_the_outer_ones_entry(settings):
    settings.IAP_PROXY_COUNT = 2  # a load balancer, then nginx on this machine
    meta = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9, 10.0.0.2"}
    assert client_ip(RequestFactory().get("/", **meta)) == "203.0.113.9"


def test_the_audit_log_records_the_client_not_the_proxy(cast, client, behind_proxy):
    response = sign_in(client, "class_teacher", PASSWORD, through_proxy("203.0.113.9"))
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).latest("pk")
    assert event.ip == "203.0.113.9"


# --- Lockout --------------------------------------------------------------------------------


def test_an_attacker_elsewhere_cannot_lock_a_user_out(cast, client, behind_proxy):
    """Behind the proxy every request came from 127.0.0.1, so five wrong passwords from
    anywhere locked the user out everywhere."""
    for _ in range(5):
        sign_in(client, "class_teacher", "wrong", through_proxy("198.51.100.66"))
    assert (
        sign_in(client, "class_teacher", PASSWORD, through_proxy("198.51.100.66")).status_code
        == 429
    )
    # The teacher, at school:
    assert (
        sign_in(client, "class_teacher", PASSWORD, through_proxy("203.0.113.9")).status_code == 302
    )


def test_spraying_from_one_address_is_stopped_and_others_are_not(cast, client, behind_proxy):
    """Two tries on each of fifteen accounts never trips the lockout of one username; the
    limit per address does, and then even a right password from there waits."""
    users = [UserFactory(username=f"staff{i}") for i in range(15)]
    attacker = through_proxy("198.51.100.66")
    for user in users:
        for _ in range(2):
            assert sign_in(client, user.username, "Summer2026!", attacker).status_code == 200
    response = sign_in(client, users[0].username, PASSWORD, attacker)
    assert response.status_code == 429
    assert "No šīs adreses neizdevās pārāk daudz pieteikšanos" in response.content.decode()
    assert (
        sign_in(client, users[1].username, PASSWORD, through_proxy("203.0.113.9")).status_code
        == 302
    )


def failures(address, times):
    for n, at in enumerate(times):
        row = AccessFailureLog.objects.create(
            username=f"u{n}", ip_address=address, user_agent="x", path_info="/"
        )
        AccessFailureLog.objects.filter(pk=row.pk).update(attempt_time=at)  # auto_now_add


def test_the_wait_grows_with_the_failures(db):
    now = timezone.now()
    address = "198.51.100.66"
    # 30 failures in the last hour: wait until the oldest of them is an hour old.
    failures(address, [now - timedelta(minutes=m) for m in range(30)])
    assert timedelta(minutes=30) < address_wait(address, now) <= timedelta(minutes=31)
    # 100 in a day (spread over more than an hour): the wait is hours, not minutes.
    AccessFailureLog.objects.all().delete()
    failures(address, [now - timedelta(hours=2, minutes=m) for m in range(100)])
    assert address_wait(address, now) > timedelta(hours=20)
    assert address_wait("203.0.113.9", now) is None


# --- Password-reset e-mails -----------------------------------------------------------------


def ask_reset(client, email, meta):
    return client.post(reverse("password_reset"), {"email": email}, **meta)


def test_reset_mails_are_limited_per_account_with_the_same_answer(cast, client, behind_proxy):
    email = cast.class_teacher.email
    answers = {
        ask_reset(client, email, through_proxy(f"203.0.113.{n}"))["Location"] for n in range(6)
    }
    assert answers == {reverse("password_reset_done")}
    assert len(mail.outbox) == 3  # IAP_RESET_MAILS_PER_ACCOUNT
    # An address without an account gets the same answer, and nothing is sent.
    response = ask_reset(client, "nobody@example.lv", through_proxy("203.0.113.50"))
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 3
    assert not ResetRequest.objects.filter(account=email).exists()  # kept as a hash


def test_reset_mails_are_limited_per_address(cast, client, behind_proxy, settings):
    settings.IAP_RESET_MAILS_PER_ADDRESS = 4
    users = [UserFactory(email=f"staff{i}@example.lv") for i in range(6)]
    for user in users:
        response = ask_reset(client, user.email, through_proxy("198.51.100.66"))
        assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 4
    ask_reset(client, users[5].email, through_proxy("203.0.113.9"))
    assert len(mail.outbox) == 5
