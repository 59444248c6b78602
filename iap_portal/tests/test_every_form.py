"""Property-based, over every form of the product: each page of the URLconf is opened by each
role of the cast (the other school's coordinator aside): the school's roles, the municipality
and IKVD. Every POST form on it that takes input is filled with arbitrary text, numbers,
dates, option values and files. The answer is never a 500, and a page that answers with errors
(200) has saved nothing.

The pages come from the permission matrix, so a new page's forms are fuzzed without a new test.
"""

from datetime import date
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iap_portal.tests.test_permissions import EXPECTED, url_for

ROLES = ["coordinator", "class_teacher", "social_pedagogue", "specialist", "municipality", "agency"]
# Forms in the page frame (menu, language), and pages whose forms are confirmations only.
FRAME_ACTIONS = ("/accounts/logout/", "/i18n/setlang/")
NOT_FUZZED = {"login", "password_reset", "password_reset_confirm", "logout_everywhere"}
# Rows that any request may write: the audit log, sessions, sign-in records, task results.
LOG_TABLES = {"iap_portal.auditevent", "accounts.usersession"}
INPUT_TYPES_SKIPPED = {"submit", "button", "reset", "image"}

PROPERTY = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
junk = st.one_of(
    st.text(max_size=200),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates(min_value=date(1, 1, 1)).map(lambda d: d.isoformat()),
    st.dates(min_value=date(1900, 1, 1)).map(lambda d: d.strftime("%d.%m.%Y")),
    st.just(""),
)
# What a tampered id looks like: not a number, negative, beyond a 64-bit column, a digit that
# is not ASCII ("٣".isdigit() is true), a float.
junk_ids = st.sampled_from(
    ["abc", "-1", "0", "99999999999999999999", "9223372036854775808", "٣", "1.5", "1e3", " 7 "]
)


class FormParser(HTMLParser):
    """POST forms of a page: action and fields (name -> kind, options)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in INPUT_TYPES_SKIPPED:
            kind = a.get("type") or "text"
            field = self._form["fields"].setdefault(a["name"], {"kind": kind, "options": []})
            if kind in {"checkbox", "radio", "hidden"} and a.get("value") is not None:
                field["options"].append(a["value"])
        elif tag == "button" and a.get("name") and a.get("value") is not None:
            # A named button sends its value (copy_from=<plan>): tampered like any field.
            field = self._form["fields"].setdefault(a["name"], {"kind": "button", "options": []})
            field["options"].append(a["value"])
        elif tag in {"textarea", "select"} and a.get("name"):
            self._form["fields"].setdefault(a["name"], {"kind": tag, "options": []})
            self._select = a["name"] if tag == "select" else None
        elif tag == "option" and self._select:
            self._form["fields"][self._select]["options"].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def fuzzable_forms(html, page_url):
    parser = FormParser()
    parser.feed(html)
    forms = []
    for form in parser.forms:
        action = form["action"] or page_url
        if action.startswith(FRAME_ACTIONS):
            continue
        inputs = {n: f for n, f in form["fields"].items() if n != "csrfmiddlewaretoken"}
        if any(f["kind"] != "hidden" for f in inputs.values()):
            forms.append((action, inputs))
    return forms


def value_strategy(field):
    if field["kind"] == "file":
        return st.binary(max_size=2000).map(lambda b: SimpleUploadedFile("x.csv", b))
    if field["kind"] == "checkbox" and field["options"]:
        # List-valued (claims=1&claims=2): several values, real ones and tampered ones.
        return st.lists(st.one_of(st.sampled_from(field["options"]), junk_ids, junk), max_size=4)
    if field["options"]:
        # Mostly a real choice (so that deeper validation is reached), sometimes junk.
        return st.one_of(st.sampled_from(field["options"]), junk_ids, junk)
    if field["kind"] == "hidden":
        return st.one_of(junk_ids, junk)
    return junk


def row_counts():
    return {
        m._meta.label_lower: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.label_lower not in LOG_TABLES and not m._meta.proxy and m._meta.managed
    }


def forms_of(name):
    return name not in NOT_FUZZED and any(EXPECTED[name]["GET"].get(role) == "ok" for role in ROLES)


def fuzz(client, user, action, fields):
    data = st.fixed_dictionaries({n: value_strategy(f) for n, f in fields.items()})

    @PROPERTY
    @given(data=data)
    def post_junk(data):
        client.force_login(user)
        before = row_counts()
        response = client.post(action, data)
        assert response.status_code != 500, (user.username, action, data)
        assert response.status_code in (200, 302, 400, 403, 404, 405), response
        if response.status_code == 200:
            after = row_counts()
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            assert not changed, (user.username, action, changed)

    post_junk()


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if forms_of(n)))
def test_every_form_answers_arbitrary_input_without_failing(client, cast, name):
    fuzzed = 0
    url = url_for(name, cast)  # builds the plan/claim the page is about, once
    for role in ROLES:
        if EXPECTED[name]["GET"].get(role) != "ok":
            continue
        client.force_login(cast.users[role])
        page = client.get(url)
        if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
            continue
        for action, fields in fuzzable_forms(page.content.decode(), url):
            fuzzed += 1
            fuzz(client, cast.users[role], action, fields)
    if not fuzzed:
        pytest.skip(f"{name}: no form that takes input for these roles")


def draft_plan_edit(cast):
    from plans.tests.factories import ready_plan

    plan = ready_plan(
        student=cast.student, preparer=cast.class_teacher, responsible=cast.specialist
    )
    return reverse("plan_update", kwargs={"pk": plan.pk})


def draft_claim_edit(cast):
    from compensations.tests.factories import draft_claim, transport_measure
    from plans.models import PlanStatus
    from plans.tests.factories import ready_plan

    plan = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
    )
    measure = transport_measure(plan)
    claim = draft_claim(plan=plan, by=cast.class_teacher, measure=measure)
    return reverse("claim_update", kwargs={"pk": claim.pk})


# Forms the matrix's objects do not show (its plan is in progress, its claim submitted).
@pytest.mark.parametrize("page_url", [draft_plan_edit, draft_claim_edit])
def test_editing_a_draft_answers_arbitrary_input_without_failing(client, cast, page_url):
    url = page_url(cast)
    client.force_login(cast.class_teacher)
    page = client.get(url)
    assert page.status_code == 200
    forms = fuzzable_forms(page.content.decode(), url)
    assert forms
    for action, fields in forms:
        fuzz(client, cast.class_teacher, action, fields)
