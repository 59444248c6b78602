"""Neither language shows words of the other (issue 21), on every page of the permission matrix.

Each page a role of the cast may open is read once in Latvian and once in English, with the
cast's plan, claims, payment batch and their history in place: the Latvian page may not say
"created", "changed", "submitted", "approved" or "format=" (the codes the history and the
audit log used to show), and the English page may not show a name of the Latvian catalogue
(risk types, risk factors, specialist types) where the catalogue has an English one.
"""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings

from iap_portal import audit
from iap_portal.models import AuditEvent
from iap_portal.tests.test_permissions import EXPECTED, OK, cast_batch, url_for
from plans.models import RiskFactor, RiskType
from students.models import SpecialistType

ENGLISH_IN_LATVIAN = re.compile(r"\b(created|changed|submitted|approved)\b|format=", re.I)
# Who opens each page: the first of these roles that may.
ROLES_IN_ORDER = [
    "coordinator",
    "class_teacher",
    "social_pedagogue",
    "specialist",
    "municipality",
    "municipal_accountant",
    "agency",
    "other_teacher",
    "other_coordinator",
    "anonymous",
]
# The catalogue's own pages show both names on purpose: whoever keeps it writes both.
BOTH_NAMES = {
    "risk_factor_list",
    "risk_factor_create",
    "risk_factor_update",
    "specialist_type_list",
    "specialist_type_create",
    "specialist_type_update",
}


def reader(name):
    return next(role for role in ROLES_IN_ORDER if EXPECTED[name]["GET"][role] == OK)


PAGES = sorted(EXPECTED)


class VisibleText(HTMLParser):
    """The text a reader sees: no attributes, scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html):
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def latvian_catalogue_names():
    names = set()
    for model in (RiskType, RiskFactor, SpecialistType):
        names |= {
            name
            for name, name_en in model.objects.values_list("name", "name_en")
            if name_en and name_en.lower() != name.lower()
        }
    return names


def with_history(cast):
    """The cast's plan, claims and batch (a claim approved, a batch sent), and an export in
    the audit log as it was recorded before it was put into words."""
    cast_batch(cast)
    audit.record(
        None,
        AuditEvent.Action.EXPORT,
        user=cast.coordinator,
        school=cast.school,
        detail="payments.csv format=csv",
    )


def read(client, cast, name, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url_for(name, cast))
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return None
    return visible_text(response.content.decode())


def test_it_reads_every_page_of_the_matrix():
    """Every URL has a reader (or none may open it) — the matrix generates the pages."""
    assert all(
        reader(name)
        for name in PAGES
        if any(EXPECTED[name]["GET"][r] == OK for r in ROLES_IN_ORDER)
    )


@pytest.mark.parametrize(
    "name", [n for n in PAGES if any(EXPECTED[n]["GET"][r] == OK for r in ROLES_IN_ORDER)]
)
def test_neither_language_shows_words_of_the_other(client, cast, name):
    with_history(cast)
    role = reader(name)
    if role != "anonymous":
        client.force_login(cast.users[role])
    latvian = read(client, cast, name, "lv")
    if latvian is None:
        pytest.skip("not an HTML page")
    found = sorted({m.group(0) for m in ENGLISH_IN_LATVIAN.finditer(latvian)})
    assert not found, (name, role, found)

    english = read(client, cast, name, "en")
    if name in BOTH_NAMES:
        return
    shown = [n for n in latvian_catalogue_names() if re.search(rf"\b{re.escape(n)}\b", english)]
    assert not shown, (name, role, shown)
