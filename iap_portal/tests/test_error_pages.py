import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def english(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture(autouse=True)
def production_like(settings):
    # Django shows its own technical pages with DEBUG on; users see ours with it off.
    settings.DEBUG = False


def test_a_missing_pupil_shows_the_friendly_not_found_page(cast, login):
    response = english(login(cast.coordinator)).get(reverse("student_detail", args=[999999]))
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    content = response.content.decode()
    assert "Page not found" in content
    assert f'href="{reverse("home")}"' in content


def test_a_pupil_of_another_school_looks_just_as_missing(cast, login):
    client = english(login(cast.coordinator))
    other = client.get(reverse("student_detail", args=[cast.outsider_student.pk]))
    assert other.status_code == 404
    assert "Page not found" in other.content.decode()
    assert cast.outsider_student.last_name not in other.content.decode()


def test_a_page_for_another_role_shows_the_friendly_forbidden_page(cast, login):
    response = english(login(cast.class_teacher)).get(reverse("calendar"))
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    content = response.content.decode()
    assert "Access denied" in content
    assert f'href="{reverse("home")}"' in content


def test_the_server_error_page_needs_no_context_and_no_database():
    # No `db` fixture: pytest-django fails the test if rendering touches the database.
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    content = response.content.decode()
    assert "Radās kļūda" in content and "Something went wrong" in content
    assert 'href="/"' in content
    for path in re.findall(r'href="/static/([^"]+)"', content):
        assert (Path(settings.BASE_DIR) / "static" / path).is_file(), path


def test_the_server_error_page_uses_no_template_tags():
    source = (TEMPLATES / "500.html").read_text()
    assert "{%" not in source and "{{" not in source


@pytest.mark.parametrize("name", ["403.html", "404.html", "500.html"])
def test_the_error_pages_have_no_inline_scripts_or_styles(name):
    source = (TEMPLATES / name).read_text()
    assert "style=" not in source
    assert not re.search(r"<script(?![^>]*\bsrc=)", source)
