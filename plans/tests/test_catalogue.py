"""The national catalogues (risk factors, specialist types) are kept by IKVD; a school adds
factors of its own that only it sees; what plans name is never changed in place."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from early_warning.tests.helpers import current_semester, earlier_semester, give, make_period
from plans import services
from plans.early_signals import FACTOR_OF_TRIGGER
from plans.models import PlanRisk, PlanStatus, RiskFactor, RiskType, SupportPlan
from plans.tests.factories import (
    add_consultation_measure,
    add_risk,
    make_plan,
    national_factor,
    ready_plan,
)
from plans.tests.test_views import edit_data
from students.models import SpecialistType

UNEXCUSED = "neattaisnoti-kavejumi"


def pdf_text(content):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def factor_data(factor=None, **changes):
    data = {
        "risk_type": factor.risk_type_id if factor else RiskType.objects.get(number=1).pk,
        "name": factor.name if factor else "",
        # The national catalogue is kept in both languages.
        "name_en": factor.name_en if factor else "a new factor",
        "is_active": "on" if factor is None or factor.is_active else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def approved_plan(cast):
    return ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )


def risk_choices(client, plan):
    """The risk factors the plan's edit page offers for a risk."""
    form = client.get(reverse("plan_update", args=[plan.pk])).context["risks"].empty_form
    return set(form.fields["risk_factor"].queryset)


def own_factor(cast, name="mācās vakarskolā paralēli"):
    return services.save_risk_factor(
        factor=None,
        by=cast.coordinator,
        risk_type=RiskType.objects.get(number=1),
        name=name,
        is_active=True,
        school=cast.school,
    )


# --- Who keeps the national catalogue -------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "other_coordinator"])
def test_it_refuses_a_coordinator_renaming_or_deactivating_a_national_factor(cast, login, role):
    factor = national_factor(UNEXCUSED)
    client = login(cast.users[role])
    url = reverse("risk_factor_update", args=[factor.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, factor_data(factor, name="pārdēvēts")).status_code == 403
    assert client.post(url, factor_data(factor, is_active="")).status_code == 403
    factor.refresh_from_db()
    assert (factor.name, factor.is_active) == ("neattaisnoti kavējumi", True)
    # The list shows it, without a way to change it.
    page = client.get(reverse("risk_factor_list")).content.decode()
    assert "neattaisnoti kavējumi" in page
    assert url not in page


def test_it_lets_the_agency_rename_and_deactivate_a_national_factor(cast, login):
    factor = national_factor(UNEXCUSED)
    client = login(cast.agency)
    url = reverse("risk_factor_update", args=[factor.pk])
    assert url in client.get(reverse("risk_factor_list")).content.decode()
    response = client.post(url, factor_data(factor, name="neattaisnotas stundas", is_active=""))
    assert response["Location"] == reverse("risk_factor_list")
    factor.refresh_from_db()  # named in no plan: changed in place
    assert (factor.name, factor.is_active, factor.code) == (
        "neattaisnotas stundas",
        False,
        UNEXCUSED,
    )
    assert RiskFactor.objects.filter(code=UNEXCUSED).count() == 1


def test_the_agency_adds_a_national_factor_with_a_code(cast, login):
    response = login(cast.agency).post(
        reverse("risk_factor_create"), factor_data(name="Mācās  vakarskolā")
    )
    assert response.status_code == 302
    factor = RiskFactor.objects.get(name="Mācās vakarskolā")
    assert (factor.school, factor.code) == (None, "macas-vakarskola")
    assert factor in RiskFactor.objects.choosable(cast.other_school.pk)


def test_the_service_refuses_a_coordinator_changing_a_national_factor(cast):
    factor = national_factor(UNEXCUSED)
    with pytest.raises(services.CatalogueError):
        services.save_risk_factor(
            factor=factor,
            by=cast.coordinator,
            risk_type=factor.risk_type,
            name="x",
            is_active=True,
        )
    with pytest.raises(services.CatalogueError):
        services.save_risk_factor(
            factor=None, by=cast.coordinator, risk_type=factor.risk_type, name="x", is_active=True
        )


# --- A school's own factors ---------------------------------------------------------------


def test_a_coordinator_adds_a_factor_only_their_school_sees(cast, login):
    client = login(cast.coordinator)
    response = client.post(reverse("risk_factor_create"), factor_data(name="strādā naktīs"))
    assert response.status_code == 302
    factor = RiskFactor.objects.get(name="strādā naktīs")
    assert factor.school == cast.school
    assert "strādā naktīs" in client.get(reverse("risk_factor_list")).content.decode()
    # The school edits its own factor.
    url = reverse("risk_factor_update", args=[factor.pk])
    client.post(url, factor_data(factor, name="strādā naktīs un nedēļas nogalēs"))
    factor.refresh_from_db()
    assert factor.name == "strādā naktīs un nedēļas nogalēs"

    # Another school's coordinator and the agency do not see it at all.
    for user in (cast.other_coordinator, cast.agency):
        other = login(user)
        assert "strādā naktīs" not in other.get(reverse("risk_factor_list")).content.decode()
        assert other.get(url).status_code == 404
        assert other.post(url, factor_data(factor, name="x")).status_code == 404
    factor.refresh_from_db()
    assert factor.name == "strādā naktīs un nedēļas nogalēs"


def test_a_schools_own_factor_is_offered_in_its_plans_only(cast, login):
    factor = own_factor(cast)
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    assert factor in risk_choices(login(cast.coordinator), plan)

    outsider_plan = make_plan(student=cast.outsider_student, preparer=cast.other_coordinator)
    client = login(cast.other_coordinator)
    assert factor not in risk_choices(client, outsider_plan)
    assert national_factor(UNEXCUSED) in risk_choices(client, outsider_plan)

    # A forged POST of the factor's id on the other school's plan is refused, and the page
    # does not give its name away.
    response = client.post(
        reverse("plan_update", args=[outsider_plan.pk]),
        edit_data(outsider_plan, risks=[{"risk_factor": factor.pk, "justification": "x"}]),
    )
    assert response.status_code == 200
    assert response.context["risks"].errors[0]["risk_factor"]
    assert factor.name not in response.content.decode()
    assert not outsider_plan.risks.exists()


def test_the_service_refuses_another_schools_factor(cast):
    factor = own_factor(cast)
    plan = make_plan(student=cast.outsider_student, preparer=cast.other_coordinator)
    with pytest.raises(services.PlanActionError):
        services.save_plan_content(
            plan=plan,
            by=cast.other_coordinator,
            risks=[PlanRisk(risk_factor=factor, justification="x")],
            removed_risks=[],
            measures=[],
            removed_measures=[],
        )
    assert not plan.risks.exists()


def test_a_school_factor_may_not_repeat_a_national_name(cast, login):
    response = login(cast.coordinator).post(
        reverse("risk_factor_create"), factor_data(name="Neattaisnoti kavējumi")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"]


# --- Versions: what plans said stays --------------------------------------------------------


def test_renaming_a_used_factor_keeps_the_old_plans_text(cast, login):
    plan = approved_plan(cast)
    old = national_factor(UNEXCUSED)
    response = login(cast.agency).post(
        reverse("risk_factor_update", args=[old.pk]), factor_data(old, name="stundu kavēšana")
    )
    assert response.status_code == 302
    old.refresh_from_db()
    new = RiskFactor.objects.get(name="stundu kavēšana")
    assert (old.name, old.is_active, old.replaced_by) == ("neattaisnoti kavējumi", False, new)
    assert (new.code, new.is_active, new.school) == (UNEXCUSED, True, None)
    assert national_factor(UNEXCUSED) == new

    client = login(cast.class_teacher)
    page = client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert "neattaisnoti kavējumi" in page
    assert "stundu kavēšana" not in page
    pdf = pdf_text(client.get(reverse("plan_pdf", args=[plan.public_id])).content)
    assert "neattaisnoti" in pdf
    assert "stundu" not in pdf

    # A new plan is offered the new name only; the catalogue lists the newest version.
    new_plan = make_plan(student=cast.other_student, preparer=cast.coordinator)
    choices = risk_choices(login(cast.coordinator), new_plan)
    assert new in choices
    assert old not in choices
    listing = login(cast.agency).get(reverse("risk_factor_list")).content.decode()
    assert "stundu kavēšana" in listing
    assert "neattaisnoti kavējumi" not in listing
    # The old version is history: it cannot be edited any more.
    url = reverse("risk_factor_update", args=[old.pk])
    assert login(cast.agency).get(url).status_code == 404


def test_deactivating_a_used_factor_changes_no_plan(cast, login):
    plan = approved_plan(cast)
    factor = national_factor(UNEXCUSED)
    login(cast.agency).post(
        reverse("risk_factor_update", args=[factor.pk]), factor_data(factor, is_active="")
    )
    factor.refresh_from_db()
    assert not factor.is_active
    assert factor.replaced_by is None  # the same row: nothing to version
    page = login(cast.class_teacher).get(reverse("plan_detail", args=[plan.pk]))
    assert "neattaisnoti kavējumi" in page.content.decode()
    draft = make_plan(student=cast.other_student, preparer=cast.coordinator)
    assert factor not in risk_choices(login(cast.coordinator), draft)


def test_a_copied_plan_takes_the_newest_version_and_leaves_retired_factors_out(cast):
    source = ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        semester=earlier_semester(),
        status=PlanStatus.EVALUATED,
        first_approved_at=timezone.now(),
    )
    old = source.risks.get().risk_factor
    retired = add_risk(source, "zinasanu-robi").risk_factor
    new = services.save_risk_factor(
        factor=old, by=cast.agency, risk_type=old.risk_type, name="stundu kavēšana", is_active=True
    )
    services.save_risk_factor(
        factor=retired,
        by=cast.agency,
        risk_type=retired.risk_type,
        name=retired.name,
        is_active=False,
    )
    copy = services.copy_plan(source=source, semester=current_semester(), by=cast.class_teacher)
    assert [r.risk_factor for r in copy.risks.all()] == [new]
    assert copy.measures.get().risks.get().risk_factor == new


def test_two_versions_of_one_factor_are_the_same_risk(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    risk = add_risk(plan)
    old = risk.risk_factor
    new = services.save_risk_factor(
        factor=old, by=cast.agency, risk_type=old.risk_type, name="stundu kavēšana", is_active=True
    )
    response = login(cast.class_teacher).post(
        reverse("plan_update", args=[plan.pk]),
        edit_data(
            plan,
            risks=[
                {"id": risk.pk, "risk_factor": old.pk, "justification": "x"},
                {"risk_factor": new.pk, "justification": "y"},
            ],
        ),
    )
    assert response.status_code == 200
    assert response.context["risks"].forms[1].errors["risk_factor"]
    assert list(plan.risks.all()) == [risk]


# --- The early-warning pre-fill finds factors by code ----------------------------------------


def test_every_trigger_code_names_a_national_factor(cast):
    assert set(RiskFactor.objects.newest_national(FACTOR_OF_TRIGGER.values())) == set(
        FACTOR_OF_TRIGGER.values()
    )


def test_the_prefill_finds_a_renamed_factor_by_its_code(cast, login):
    approved = ready_plan(
        student=cast.other_student,
        preparer=cast.coordinator,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )
    old = approved.risks.get().risk_factor  # in a plan: renaming makes a new version
    new = services.save_risk_factor(
        factor=old, by=cast.agency, risk_type=old.risk_type, name="stundu kavēšana", is_active=True
    )
    give(
        cast.student,
        make_period(cast.school),
        by=cast.coordinator,
        held=100,
        excused=0,
        unexcused=12,
    )
    client = login(cast.class_teacher)
    page = client.get(reverse("plan_create", args=[cast.student.pk]))
    assert new in [s[0] for s in page.context["suggestions"]]
    assert "stundu kavēšana" in page.content.decode()
    client.post(
        reverse("plan_create", args=[cast.student.pk]),
        {"semester": current_semester().pk, "kind": "regular"},
    )
    plan = SupportPlan.objects.get(student=cast.student)
    assert new in [r.risk_factor for r in plan.risks.all()]
    assert old not in [r.risk_factor for r in plan.risks.all()]


# --- Specialist types -----------------------------------------------------------------------


def test_the_agency_adds_renames_and_deactivates_specialist_types(cast, login):
    client = login(cast.agency)
    assert "psihologs" in client.get(reverse("specialist_type_list")).content.decode()
    client.post(reverse("specialist_type_create"), {"name": "logopēds", "is_active": "on"})
    speech = SpecialistType.objects.get(name="logopēds")
    url = reverse("specialist_type_update", args=[speech.pk])
    response = client.post(url, {"name": "logopēds (runas terapeits)"})
    assert response["Location"] == reverse("specialist_type_list")
    speech.refresh_from_db()
    assert (speech.name, speech.is_active) == ("logopēds (runas terapeits)", False)


@pytest.mark.parametrize("role", ["coordinator", "other_coordinator", "class_teacher"])
def test_school_roles_may_not_change_specialist_types(cast, login, role):
    psihologs = SpecialistType.objects.get(name="psihologs")
    client = login(cast.users[role])
    url = reverse("specialist_type_update", args=[psihologs.pk])
    assert client.post(url, {"name": "x", "is_active": "on"}).status_code == 403
    assert client.post(reverse("specialist_type_create"), {"name": "y"}).status_code == 403
    psihologs.refresh_from_db()
    assert psihologs.name == "psihologs"
    assert not SpecialistType.objects.filter(name="y").exists()


def test_a_specialist_type_in_plans_is_not_renamed(cast, login):
    plan = approved_plan(cast)
    psihologs = SpecialistType.objects.get(name="psihologs")
    client = login(cast.agency)
    url = reverse("specialist_type_update", args=[psihologs.pk])
    assert client.get(url).context["form"].fields["name"].disabled
    # The name cannot be changed, even by a forged POST; taking it out of use can.
    client.post(url, {"name": "psihologs (klīniskais)"})
    psihologs.refresh_from_db()
    assert (psihologs.name, psihologs.is_active) == ("psihologs", False)
    with pytest.raises(services.CatalogueError):
        services.save_specialist_type(
            specialist_type=psihologs, by=cast.agency, name="klīniskais psihologs", is_active=True
        )
    page = login(cast.class_teacher).get(reverse("plan_detail", args=[plan.pk]))
    assert "psihologs" in page.content.decode()


def test_a_measure_keeps_its_specialist_type_once_out_of_use(cast, login):
    plan = make_plan(student=cast.student, preparer=cast.class_teacher)
    risk = add_risk(plan)
    measure = add_consultation_measure(plan, responsible=cast.specialist, risks=[risk])
    SpecialistType.objects.filter(pk=measure.specialist_type_id).update(is_active=False)
    response = login(cast.class_teacher).get(reverse("plan_update", args=[plan.pk]))
    measures = response.context["measures"]
    assert measure.specialist_type in measures.forms[0].fields["specialist_type"].queryset
    assert measure.specialist_type not in measures.empty_form.fields["specialist_type"].queryset


# --- Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 6])
def test_the_catalogue_page_query_count_is_fixed(cast, login, django_assert_num_queries, extra):
    plan = make_plan(student=cast.student, preparer=cast.coordinator)
    for n in range(extra):
        factor = own_factor(cast, name=f"skolas faktors {n}")
        PlanRisk.objects.create(plan=plan, risk_factor=factor, justification="x")
        services.save_risk_factor(  # a new version: the old one is not listed
            factor=factor,
            by=cast.coordinator,
            risk_type=factor.risk_type,
            name=f"x{n}",
            is_active=True,
        )
    client = login(cast.coordinator)
    # session, user, memberships, risk types, their factors (with schools and "in plans")
    with django_assert_num_queries(5):
        client.get(reverse("risk_factor_list"))


@pytest.mark.parametrize("extra", [0, 6])
def test_the_specialist_types_page_query_count_is_fixed(
    cast, login, django_assert_num_queries, extra
):
    SpecialistType.objects.bulk_create(SpecialistType(name=f"veids {n}") for n in range(extra))
    client = login(cast.agency)
    # session, user, memberships, the types with "in plans"
    with django_assert_num_queries(4):
        client.get(reverse("specialist_type_list"))
