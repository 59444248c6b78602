"""Security headers on every page a user can open."""

import pytest
from django.urls import reverse

from iap_portal.tests.test_permissions import EXPECTED, OK, url_for


def pages_for(role):
    return sorted(name for name, table in EXPECTED.items() if table["GET"][role] == OK)


@pytest.mark.parametrize("name", pages_for("coordinator"))
def test_every_page_sends_the_security_headers(client, cast, name):
    client.force_login(cast.coordinator)
    response = client.get(url_for(name, cast))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy and "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_the_login_page_sends_them_too(client):
    response = client.get(reverse("login"))
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_signed_in_users_page_is_not_kept_but_static_files_are(client, cast):
    """On a shared school computer the browser's cache and back button must not keep a
    pupil's page after logout; the stylesheet may be cached."""
    client.force_login(cast.class_teacher)
    page = client.get(reverse("student_detail", args=[cast.student.pk]))
    assert page.status_code == 200
    for directive in ("no-store", "private", "no-cache", "max-age=0"):
        assert directive in page["Cache-Control"]
    style = client.get("/static/css/app.css")
    assert style.status_code == 200
    assert "no-store" not in style.get("Cache-Control", "")
