"""The site's icon: linked from every page, and at /favicon.ico for browsers that ask there."""

import re

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse


def test_every_page_links_the_icon(client):
    page = client.get(reverse("login")).content.decode()
    head = page.split("</head>")[0]
    links = re.findall(r'<link rel="icon" href="([^"]+)"', head)
    assert links == ["/favicon.ico", static("favicon.svg")]
    assert finders.find("favicon.svg")


def test_the_icon_answers_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_the_linked_svg_is_served(client):
    response = client.get(static("favicon.svg"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(response.streaming_content)
