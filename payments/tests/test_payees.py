"""Payees: who keeps them, who reads an IBAN whole, the services and their history, the forms."""

from datetime import date, timedelta

import pytest
from django.db.models import ProtectedError
from django.utils import timezone, translation

from compensations.models import ClaimStatus, CompensationClaim
from compensations.tests.factories import at_status, claimable_plan, submitted_claim
from payments import payees
from payments.models import BatchLine, ClaimPayee, LineOutcome, Payee, PaymentBatch
from payments.payee_forms import GuardianPayeeForm, OrganisationPayeeForm, PayeeForm
from students.models import Guardian, Payer, Role, School
from students.tests.factories import MembershipFactory, MunicipalityFactory, UserFactory

IBAN = "LV80BANK0000435195001"
OTHER_IBAN = "LV97HABA0012345678910"
CATERER_IBAN = "LV75PARX0000000000001"
REGISTRATION = "40003245752"


@pytest.fixture(autouse=True)
def english():
    """The messages are read in English here (their Latvian: the tests that say so)."""
    with translation.override("en"):
        yield


def guardian_of(student, name="Pēteris Bērziņš"):
    return Guardian.objects.create(student=student, name=name, phone="+371 20000000")


def guardian_payee(cast, student=None, *, iban=IBAN, by=None):
    student = student or cast.student
    guardian = student.guardians.first() or guardian_of(student)
    return payees.add_payee(
        school=student.school,
        kind=Payee.Kind.GUARDIAN,
        by=by or cast.coordinator,
        student=student,
        guardian=guardian,
        name=guardian.name,
        iban=iban,
        address="Raiņa iela 1, Preiļi",
    )


def organisation(cast, *, school=None, name="SIA Ēdinātājs", iban=CATERER_IBAN, by=None):
    school = school or cast.school
    return payees.add_payee(
        school=school,
        kind=Payee.Kind.ORGANISATION,
        by=by or (cast.coordinator if school == cast.school else cast.other_coordinator),
        name=name,
        registration_number=REGISTRATION,
        address="Tirgus laukums 1, Preiļi",
        iban=iban,
    )


def sent_batch(cast, claim, payee, *, outcome=LineOutcome.PENDING):
    batch = PaymentBatch.objects.create(
        school=cast.school,
        payer=Payer.MUNICIPALITY,
        municipality=cast.school.municipality,
        month=claim.month,
        code=f"MS-{PaymentBatch.objects.count() + 1}",
        sequence=PaymentBatch.objects.count() + 1,
        status="sent",
        created_by=cast.coordinator,
        sent_by=cast.coordinator,
        sent_at=timezone.now(),
    )
    line = BatchLine.objects.create(
        batch=batch,
        claim=claim,
        payee=payee,
        payee_name=payee.name,
        iban=payee.iban,
        amount=claim.total,
        added_by=cast.coordinator,
        outcome=outcome,
        recorded_by=cast.municipality if outcome != LineOutcome.PENDING else None,
        paid_on=timezone.localdate() if outcome == LineOutcome.PAID else None,
        refusal_reason="Nepareizs IBAN" if outcome == LineOutcome.REFUSED else "",
    )
    return batch, line


def accountant(municipality):
    user = UserFactory(username=f"gramatvede{municipality.pk}")
    MembershipFactory(
        user=user, school=None, municipality=municipality, role=Role.MUNICIPAL_ACCOUNTANT
    )
    return user


def born_years_ago(years, days=0):
    today = timezone.localdate()
    return today.replace(year=today.year - years) + timedelta(days=days)


# --- Who ----------------------------------------------------------------------------------------


def test_only_the_schools_coordinator_and_social_pedagogue_see_its_payees(cast):
    mine = guardian_payee(cast)
    theirs = organisation(cast, school=cast.other_school)
    for role, expected in [
        ("coordinator", {mine.pk}),
        ("social_pedagogue", {mine.pk}),
        ("other_coordinator", {theirs.pk}),
        ("class_teacher", set()),
        ("other_teacher", set()),
        ("specialist", set()),
        ("municipality", set()),
        ("agency", set()),
    ]:
        seen = set(payees.visible_payees(cast.users[role]).values_list("pk", flat=True))
        assert seen == expected, role


def test_a_class_teacher_cannot_add_a_payee(cast):
    with pytest.raises(payees.PayeeError):
        guardian_payee(cast, by=cast.class_teacher)
    assert not Payee.objects.exists()


def test_only_whoever_pays_reads_the_iban_whole(cast):
    payee = guardian_payee(cast)
    masked, whole = "LV** **** **** **** *5001", "LV80 BANK 0000 4351 9500 1"
    payer = accountant(cast.school.municipality)
    elsewhere = accountant(MunicipalityFactory())
    for user in [
        cast.coordinator,
        cast.social_pedagogue,
        cast.class_teacher,
        cast.municipality,
        cast.agency,
        elsewhere,
    ]:
        assert payees.iban_shown(user, payee) == masked
    assert payees.iban_shown(payer, payee) == whole
    # A school that pays itself: its coordinator pays, the municipality's accountant does not.
    School.objects.filter(pk=cast.school.pk).update(payer=Payer.SCHOOL)
    payee = Payee.objects.select_related("school").get(pk=payee.pk)
    assert payees.iban_shown(cast.coordinator, payee) == whole
    assert payees.iban_shown(cast.social_pedagogue, payee) == masked
    assert payees.iban_shown(payer, payee) == masked
    assert payees.iban_shown(cast.other_coordinator, payee) == masked


# --- Adding, changing, taking out of use ------------------------------------------------------


def test_a_guardian_payee_belongs_to_the_pupil_with_who_added_it(cast):
    payee = guardian_payee(cast)
    assert (payee.school, payee.student, payee.kind) == (cast.school, cast.student, "guardian")
    assert payee.history.get().history_user == cast.coordinator


def test_a_guardian_of_another_pupil_is_refused(cast):
    stranger = guardian_of(cast.other_student, "Cita Māte")
    with pytest.raises(payees.PayeeError, match="guardians"):
        payees.add_payee(
            school=cast.school,
            kind=Payee.Kind.GUARDIAN,
            by=cast.coordinator,
            student=cast.student,
            guardian=stranger,
            name="Cita Māte",
            iban=IBAN,
        )


@pytest.mark.parametrize(
    ("birth", "adult"),
    [
        (lambda: born_years_ago(18), True),  # the 18th birthday is today
        (lambda: born_years_ago(18, days=1), False),  # tomorrow
        (lambda: born_years_ago(30), True),
        (lambda: None, False),
    ],
)
def test_the_pupil_is_their_own_payee_only_from_18(cast, birth, adult):
    cast.student.birth_date = birth()
    cast.student.save()

    def add():
        return payees.add_payee(
            school=cast.school,
            kind=Payee.Kind.PUPIL,
            by=cast.social_pedagogue,
            student=cast.student,
            name=cast.student.full_name,
            iban=IBAN,
        )

    if adult:
        assert add().kind == Payee.Kind.PUPIL
    else:
        with pytest.raises(payees.PayeeError, match="18"):
            add()
        assert not Payee.objects.exists()


def test_a_change_keeps_an_iban_left_out_and_is_kept_in_the_history(cast):
    payee = guardian_payee(cast)
    payees.change_payee(payee=payee, by=cast.social_pedagogue, values={"address": "Jaunā iela 2"})
    payee.refresh_from_db()
    assert payee.iban == IBAN and payee.address == "Jaunā iela 2"
    payees.change_payee(payee=payee, by=cast.social_pedagogue, values={"iban": OTHER_IBAN})
    payee.refresh_from_db()
    assert payee.iban == OTHER_IBAN
    assert [r.history_user for r in payee.history.order_by("history_id")] == [
        cast.coordinator,
        cast.social_pedagogue,
        cast.social_pedagogue,
    ]


def test_the_history_says_who_changed_what_with_the_ibans_masked(cast):
    payee = guardian_payee(cast)
    payees.change_payee(
        payee=payee, by=cast.social_pedagogue, values={"iban": OTHER_IBAN, "name": "P. Bērziņš"}
    )
    payees.set_payee_active(payee=payee, by=cast.coordinator, active=False)
    with translation.override("en"):
        texts = [e["text"] for e in payees.payee_history(payee)]
    assert len(texts) == 3
    assert "added the payee “Pēteris Bērziņš”, IBAN LV** **** **** **** *5001" in texts[0]
    assert "name “Pēteris Bērziņš” → “P. Bērziņš”" in texts[1]
    assert "IBAN LV** **** **** **** *5001 → LV** **** **** **** *8910" in texts[1]
    assert "taken out of use" in texts[2]
    joined = " ".join(texts)
    assert IBAN not in joined and OTHER_IBAN not in joined and "BANK" not in joined


def test_a_payee_that_a_batch_paid_is_never_deleted_only_taken_out_of_use(cast):
    plan = claimable_plan(cast)
    claim = at_status(submitted_claim(plan=plan, by=cast.class_teacher), ClaimStatus.APPROVED)
    payee = guardian_payee(cast)
    sent_batch(cast, claim, payee, outcome=LineOutcome.PAID)
    with pytest.raises(ProtectedError):
        payee.delete()
    payees.set_payee_active(payee=payee, by=cast.coordinator, active=False)
    payee.refresh_from_db()
    assert not payee.is_active and BatchLine.objects.get().payee == payee
    with pytest.raises(payees.PayeeError):
        payees.set_payee_active(payee=payee, by=cast.coordinator, active=False)


# --- The claim's payee --------------------------------------------------------------------------


@pytest.fixture
def claim(cast):
    return at_status(
        submitted_claim(plan=claimable_plan(cast), by=cast.class_teacher), ClaimStatus.APPROVED
    )


def test_a_claim_is_paid_to_the_first_guardian_unless_someone_chose(cast, claim):
    assert payees.payee_for(claim) is None
    first = guardian_payee(cast)
    assert payees.payee_for(claim) == first
    caterer = organisation(cast)
    payees.choose_claim_payee(claim=claim, payee=caterer, by=cast.social_pedagogue)
    assert payees.payee_for(claim) == caterer
    assert ClaimPayee.objects.get(claim=claim).history.get().history_user == cast.social_pedagogue
    # The caterer taken out of use: the claim waits for a new choice, not for the guardian.
    payees.set_payee_active(payee=caterer, by=cast.coordinator, active=False)
    assert payees.payee_for(claim) is None
    assert payees.chosen_payee(claim) == caterer


def test_the_choice_is_among_the_pupils_payees_and_the_schools_organisations(cast, claim):
    mine = guardian_payee(cast)
    caterer = organisation(cast)
    others = guardian_payee(cast, cast.other_student, iban=OTHER_IBAN)
    elsewhere = organisation(cast, school=cast.other_school, name="SIA Cits")
    assert set(payees.claim_payee_choices(claim)) == {mine, caterer}
    for payee in (others, elsewhere):
        with pytest.raises(payees.PayeeError, match="Choose one"):
            payees.choose_claim_payee(claim=claim, payee=payee, by=cast.coordinator)
    payees.set_payee_active(payee=mine, by=cast.coordinator, active=False)
    assert set(payees.claim_payee_choices(claim)) == {caterer}
    with pytest.raises(payees.PayeeError):
        payees.choose_claim_payee(claim=claim, payee=caterer, by=cast.class_teacher)
    assert not ClaimPayee.objects.exists()


def test_the_payee_stays_while_a_batch_pays_the_claim_and_changes_after_a_refusal(cast, claim):
    guardian = guardian_payee(cast)
    caterer = organisation(cast)
    _batch, line = sent_batch(cast, claim, guardian)
    with pytest.raises(payees.PayeeError, match="batch"):
        payees.choose_claim_payee(claim=claim, payee=caterer, by=cast.coordinator)
    BatchLine.objects.filter(pk=line.pk).update(
        outcome=LineOutcome.REFUSED, refusal_reason="Nepareizs IBAN", recorded_by=cast.municipality
    )
    payees.choose_claim_payee(claim=claim, payee=caterer, by=cast.coordinator)
    assert payees.payee_for(claim) == caterer


def test_a_paid_claims_payee_stays(cast, claim):
    caterer = organisation(cast)
    CompensationClaim.objects.filter(pk=claim.pk).update(
        status=ClaimStatus.PAID, paid_on=timezone.localdate()
    )
    with pytest.raises(payees.PayeeError, match="paid"):
        payees.choose_claim_payee(claim=claim, payee=caterer, by=cast.coordinator)


# --- Forms --------------------------------------------------------------------------------------


def test_the_guardian_form_offers_the_pupils_guardians_with_the_name_prefilled(cast):
    mother = guardian_of(cast.student, "Anna Bērziņa")
    guardian_of(cast.other_student, "Cita Māte")
    form = GuardianPayeeForm(guardians=cast.student.guardians.all())
    assert list(form.fields["guardian"].queryset) == [mother]
    assert form.fields["name"].initial == "Anna Bērziņa"
    form = GuardianPayeeForm(
        {"guardian": mother.pk, "name": "", "iban": "lv80 bank 0000 4351 9500 1"},
        guardians=cast.student.guardians.all(),
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "Anna Bērziņa" and form.cleaned_data["iban"] == IBAN


def test_the_guardian_form_refuses_a_guardian_of_another_pupil(cast):
    guardian_of(cast.student, "Anna Bērziņa")
    stranger = guardian_of(cast.other_student, "Cita Māte")
    form = GuardianPayeeForm(
        {"guardian": stranger.pk, "iban": IBAN}, guardians=cast.student.guardians.all()
    )
    assert not form.is_valid() and "guardian" in form.errors


def test_a_bad_iban_is_explained_in_latvian(cast):
    with translation.override("lv"):
        form = PayeeForm({"name": "X", "iban": "LV80BANK000043519500"})
        assert not form.is_valid()
        (message,) = form.errors["iban"]
    assert "21" in message and "rakstzīmju skaits" in message
    with translation.override("en"):
        form = PayeeForm({"name": "X", "iban": "LV80BANK0000435195002"})
        assert "check digits" in form.errors["iban"][0]


@pytest.mark.parametrize(
    ("number", "error"),
    [("40003245751", "check digit"), ("4000324", "11 digits"), ("32867300679", "personal code")],
)
def test_the_organisation_form_validates_the_registration_number(cast, number, error):
    data = {
        "name": "SIA Ēdinātājs",
        "registration_number": number,
        "address": "Preiļi",
        "iban": IBAN,
    }
    with translation.override("en"):
        form = OrganisationPayeeForm(data, schools=School.objects.filter(pk=cast.school.pk))
        assert not form.is_valid()
        assert error in form.errors["registration_number"][0]


def test_the_organisation_form_needs_an_address_and_normalises_the_number(cast):
    schools = School.objects.filter(pk=cast.school.pk)
    data = {"name": "SIA Ēdinātājs", "registration_number": "LV 4000 3245 752", "iban": IBAN}
    form = OrganisationPayeeForm(data, schools=schools)
    assert not form.is_valid() and list(form.errors) == ["address"]
    form = OrganisationPayeeForm({**data, "address": "Preiļi"}, schools=schools)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["registration_number"] == REGISTRATION
    assert form.cleaned_data["school"] == cast.school


def test_changing_a_payee_asks_for_the_iban_only_to_change_it(cast):
    payee = guardian_payee(cast)
    form = PayeeForm({"name": payee.name, "address": ""}, payee=payee)
    assert form.is_valid(), form.errors
    assert "iban" not in form.values()
    assert "LV** **** **** **** *5001" in str(form.fields["iban"].help_text)


def test_an_age_counts_whole_years():
    assert payees.age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert payees.age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert payees.age_on(date(2008, 12, 1), date(2026, 12, 1)) == 18


def test_forgetting_a_pupil_finds_the_events_of_their_payees(cast, claim):
    from iap_portal.audit import forget_students
    from iap_portal.models import AuditEvent

    payee = guardian_payee(cast)
    choice = payees.choose_claim_payee(claim=claim, payee=payee, by=cast.coordinator)
    for obj in (payee, choice):
        AuditEvent.objects.create(
            action="view_pupil",
            object_type=obj._meta.label,
            object_id=str(obj.pk),
            detail=f"{payee.name}",
        )
    forget_students([cast.student.pk])
    assert set(AuditEvent.objects.values_list("detail", flat=True)) == {""}
