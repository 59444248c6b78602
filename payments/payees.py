"""Payees: who a claim is paid to (the payees part of the payments issue).

A payee is personal data (but for an organisation): the school's coordinator and social
pedagogue see and keep them — a pupil's payees (a guardian, the adult pupil) and the school's
organisations (a caterer, a dormitory, a carrier). Nobody else at the school sees a payee or an
IBAN. Every page shows the IBAN masked; only whoever pays the school's batches reads it whole
(``iban_shown``): the municipality's accountant, or the coordinator of a school that pays
itself. Every change is kept with who made it (simple-history), shown in words with the IBANs
masked (``payee_history``).
"""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from compensations.models import ClaimStatus, CompensationClaim
from iap_portal.actions import ActionRefused, require
from iap_portal.users import display_name
from students.access import get_access, get_student_or_404
from students.models import Guardian, Payer, Role, School, Student

from .iban import format_iban, mask_iban
from .models import BatchLine, ClaimPayee, LineOutcome, Payee

# Who keeps a school's payees (and is the only one at the school who sees them).
PAYEE_KEEPERS = (Role.COORDINATOR, Role.SOCIAL_PEDAGOGUE)
ADULT_AGE = 18
# What anonymisation leaves of a pupil's payee (the database wants an IBAN's shape).
ANONYMISED = "—"
ANONYMISED_IBAN = "XX00ANONYMISED"
EDITABLE_FIELDS = ("name", "registration_number", "address", "iban")


class PayeeError(ActionRefused):
    pass


# --- Which rows may this user see, and may they keep them -------------------------------------


def payee_school_ids(user) -> set:
    return get_access(user).school_ids(*PAYEE_KEEPERS)


def can_keep_payees(user, school_id) -> bool:
    return school_id in payee_school_ids(user)


def visible_payees(user):
    """The payees of the schools where the user keeps them (coordinator, social pedagogue)."""
    return Payee.objects.filter(school_id__in=payee_school_ids(user))


def get_payee_or_404(user, pk):
    payee = (
        visible_payees(user)
        .filter(pk=pk)
        .select_related("school__municipality", "student", "guardian")
        .first()
    )
    if payee is None:
        raise Http404
    return payee


def get_pupil_for_payees_or_404(user, pk):
    """The pupil whose payees the user keeps: not a pupil they see, 404; one they see but whose
    payees are not theirs to keep (a class teacher), 403."""
    student = get_student_or_404(user, pk)
    if not can_keep_payees(user, student.school_id):
        raise PermissionDenied
    return student


def pupil_payees(student):
    return Payee.objects.filter(student=student).order_by("-is_active", "kind", "name", "pk")


def organisations(school_ids):
    """The schools' organisations (caterers, dormitories, carriers), those in use first."""
    return (
        Payee.objects.filter(kind=Payee.Kind.ORGANISATION, school_id__in=school_ids)
        .select_related("school")
        .order_by("-is_active", "name", "pk")
    )


def claim_payee_choices(claim):
    """Whom the claim may be paid to: the pupil's payees in use and the school's organisations
    in use."""
    return (
        Payee.objects.filter(is_active=True)
        .filter(
            Q(student_id=claim.plan.student_id)
            | Q(kind=Payee.Kind.ORGANISATION, school_id=claim.school_id)
        )
        .order_by("kind", "name", "pk")
    )


# --- What the pages show ------------------------------------------------------------------------


def age_on(birth_date: date, today: date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def is_adult(student, today=None) -> bool:
    """Whether the pupil is 18 or older today (a pupil without a birth date is not)."""
    if student.birth_date is None:
        return False
    return age_on(student.birth_date, today or timezone.localdate()) >= ADULT_AGE


def may_see_full_iban(user, school) -> bool:
    """Whoever pays the school's batches: the accountant of its municipality, or the school's
    own coordinator where the school pays itself."""
    access = get_access(user)
    if school.payer == Payer.SCHOOL:
        return school.pk in access.coordinated_school_ids
    return any(
        m.role == Role.MUNICIPAL_ACCOUNTANT and m.municipality_id == school.municipality_id
        for m in access.memberships
    )


def shown_iban(iban, *, full=False) -> str:
    if iban in ("", ANONYMISED_IBAN):
        return ANONYMISED
    return format_iban(iban) if full else mask_iban(iban)


def iban_shown(user, payee) -> str:
    """The payee's IBAN as this user may see it: whole (in groups of four) for whoever pays the
    school's batches, masked (``LV** **** **** **** *1234``) for everyone else."""
    return shown_iban(payee.iban, full=may_see_full_iban(user, payee.school))


def chosen_payee(claim) -> Payee | None:
    """The payee someone chose for the claim (in use or not), else None."""
    choice = ClaimPayee.objects.filter(claim=claim).select_related("payee").first()
    return choice.payee if choice is not None else None


def payee_for(claim) -> Payee | None:
    """The payee the claim is paid to: the one chosen for it while it is in use, else the
    pupil's first guardian payee in use, else the adult pupil's own; None when the claim has
    none (it cannot be put into a batch until someone chooses). A chosen payee no longer in use
    gives None, not the guardian: someone chose not to pay the guardian, so someone chooses
    again."""
    choice = ClaimPayee.objects.filter(claim=claim).select_related("payee").first()
    if choice is not None:
        return choice.payee if choice.payee.is_active else None
    return default_payee(claim.plan.student_id)


def default_payee(student_id) -> Payee | None:
    own = Payee.objects.filter(student_id=student_id, is_active=True)
    return (
        own.filter(kind=Payee.Kind.GUARDIAN).order_by("pk").first()
        or own.filter(kind=Payee.Kind.PUPIL).order_by("pk").first()
    )


def default_among(candidates, student_id) -> Payee | None:
    """``default_payee`` read from payees already fetched (those in use)."""
    for kind in (Payee.Kind.GUARDIAN, Payee.Kind.PUPIL):
        own = [p for p in candidates if p.kind == kind and p.student_id == student_id]
        if own:
            return min(own, key=lambda p: p.pk)
    return None


def claim_in_live_batch(claim) -> BatchLine | None:
    """The claim's line in a batch that the bank has not refused (then its payee stays)."""
    return (
        BatchLine.objects.filter(claim=claim)
        .exclude(outcome=LineOutcome.REFUSED)
        .select_related("batch")
        .first()
    )


def used_in_batches(payee) -> int:
    return BatchLine.objects.filter(payee=payee).values("batch_id").distinct().count()


# --- Changes, with history --------------------------------------------------------------------


def _check_owner(*, kind, school, student, guardian, today=None):
    if kind == Payee.Kind.ORGANISATION:
        require(
            student is None and guardian is None, _("An organisation is the school's."), PayeeError
        )
        return
    require(student is not None, _("A guardian or the pupil is paid for a pupil."), PayeeError)
    require(student.school_id == school.pk, _("The pupil is not this school's."), PayeeError)
    if kind == Payee.Kind.GUARDIAN:
        require(
            guardian is not None and guardian.student_id == student.pk,
            _("Choose one of the pupil's guardians."),
            PayeeError,
        )
    else:
        require(guardian is None, _("The pupil is paid as themselves."), PayeeError)
        require(is_adult(student, today), adult_refusal(student, today), PayeeError)


def adult_refusal(student, today=None) -> str:
    """Why the pupil cannot be their own payee (under 18, or no birth date recorded)."""
    if student.birth_date is None:
        return _(
            "The pupil's birth date is not recorded: a pupil is paid directly only from the age "
            "of 18. Pay a guardian, or record the birth date first."
        )
    return _(
        "%(name)s is %(age)s (born %(born)s): a pupil is paid directly only from the age of 18. "
        "Pay a guardian instead."
    ) % {
        "name": student.full_name,
        "age": age_on(student.birth_date, today or timezone.localdate()),
        "born": date_format(student.birth_date, "j.m.Y"),
    }


@transaction.atomic
def add_payee(
    *,
    school: School,
    kind: str,
    by,
    name: str,
    iban: str,
    student: Student | None = None,
    guardian: Guardian | None = None,
    registration_number: str = "",
    address: str = "",
) -> Payee:
    """A new payee: a pupil's guardian or the adult pupil, or one of the school's organisations.
    ``iban`` and ``registration_number`` come normalised (payments.iban)."""
    require(
        can_keep_payees(by, school.pk),
        _("Only the school's coordinator or social pedagogue keeps its payees."),
        PayeeError,
    )
    _check_owner(kind=kind, school=school, student=student, guardian=guardian)
    require(
        kind != Payee.Kind.ORGANISATION or registration_number,
        _("An organisation needs its registration number."),
        PayeeError,
    )
    payee = Payee(
        school=school,
        kind=kind,
        student=student,
        guardian=guardian,
        name=name.strip() or (guardian.name if guardian else ""),
        registration_number=registration_number if kind == Payee.Kind.ORGANISATION else "",
        address=address.strip(),
        iban=iban,
        created_by=by,
    )
    require(payee.name, _("Enter the payee's name."), PayeeError)
    payee._history_user = by
    payee.save()
    return payee


@transaction.atomic
def change_payee(*, payee: Payee, by, values: dict) -> Payee:
    """Change the payee's name, registration number, address or IBAN (an IBAN left out stays).
    The batches already sent keep what they were sent with."""
    require(
        can_keep_payees(by, payee.school_id),
        _("Only the school's coordinator or social pedagogue keeps its payees."),
        PayeeError,
    )
    locked = Payee.objects.select_for_update().get(pk=payee.pk)
    require(locked.iban != ANONYMISED_IBAN, _("This payee was anonymised."), PayeeError)
    changed = []
    for field in EDITABLE_FIELDS:
        if field not in values or values[field] is None:
            continue
        value = values[field].strip() if isinstance(values[field], str) else values[field]
        if field == "registration_number" and locked.kind != Payee.Kind.ORGANISATION:
            continue
        if field in ("name", "iban") and not value:
            continue  # never emptied
        if getattr(locked, field) != value:
            setattr(locked, field, value)
            changed.append(field)
    if changed:
        locked._history_user = by
        locked.save(update_fields=[*changed, "updated_at"])
    return locked


@transaction.atomic
def set_payee_active(*, payee: Payee, by, active: bool) -> Payee:
    """Take a payee out of use (or back into it). A payee is never deleted: the batches that
    paid it name it, and its history stays. A claim chosen for it waits for a new choice."""
    require(
        can_keep_payees(by, payee.school_id),
        _("Only the school's coordinator or social pedagogue keeps its payees."),
        PayeeError,
    )
    locked = Payee.objects.select_for_update().get(pk=payee.pk)
    require(
        locked.is_active != active,
        _("The payee is in use already.") if active else _("The payee is out of use already."),
        PayeeError,
    )
    if active and locked.kind == Payee.Kind.PUPIL:
        require(is_adult(locked.student), adult_refusal(locked.student), PayeeError)
    require(locked.iban != ANONYMISED_IBAN, _("This payee was anonymised."), PayeeError)
    locked.is_active = active
    locked._history_user = by
    locked.save(update_fields=["is_active", "updated_at"])
    return locked


@transaction.atomic
def choose_claim_payee(*, claim: CompensationClaim, payee: Payee, by) -> ClaimPayee:
    """Pay the claim to this payee (one of ``claim_payee_choices``). Not once the claim is paid,
    nor while it is in a batch the bank has not refused."""
    require(
        can_keep_payees(by, claim.school_id),
        _("Only the school's coordinator or social pedagogue chooses whom a claim is paid to."),
        PayeeError,
    )
    claim = CompensationClaim.objects.select_for_update().get(pk=claim.pk)
    require(claim.status != ClaimStatus.PAID, _("The claim is paid: its payee stays."), PayeeError)
    line = claim_in_live_batch(claim)
    require(
        line is None,
        _("The claim is in the payment batch %(batch)s: its payee stays while the batch pays it.")
        % {"batch": line.batch.code if line else ""},
        PayeeError,
    )
    require(
        claim_payee_choices(claim).filter(pk=payee.pk).exists(),
        _("Choose one of the pupil's payees or one of the school's organisations in use."),
        PayeeError,
    )
    choice = ClaimPayee.objects.select_for_update().filter(claim=claim).first()
    if choice is None:
        choice = ClaimPayee(claim=claim, payee=payee, set_by=by)
    elif choice.payee_id == payee.pk:
        return choice
    else:
        choice.payee, choice.set_by = payee, by
    choice._history_user = by
    choice.save()
    return choice


# --- The history in words ---------------------------------------------------------------------


def _field_changes(before, after):
    labels = {
        "name": _("name"),
        "registration_number": _("registration number"),
        "address": _("address"),
    }
    changes = []
    for field, label in labels.items():
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            changes.append(
                _("%(field)s “%(before)s” → “%(after)s”")
                % {"field": label, "before": old or "—", "after": new or "—"}
            )
    if before.iban != after.iban:
        changes.append(
            _("IBAN %(before)s → %(after)s")
            % {"before": shown_iban(before.iban), "after": shown_iban(after.iban)}
        )
    if before.is_active != after.is_active:
        changes.append(_("back in use") if after.is_active else _("taken out of use"))
    return changes


def payee_history(payee):
    """The payee's story, oldest first, in words: who added it and who changed what (IBANs
    masked), from its history (one query)."""
    entries, before = [], None
    records = payee.history.select_related("history_user").order_by("history_date", "history_id")
    for record in records:
        who = display_name(record.history_user)
        if record.history_type == "+" or before is None:
            text = _("%(who)s added the payee “%(name)s”, IBAN %(iban)s") % {
                "who": who,
                "name": record.name,
                "iban": shown_iban(record.iban),
            }
        else:
            changes = _field_changes(before, record)
            if not changes:
                before = record
                continue
            text = _("%(who)s changed %(changes)s") % {"who": who, "changes": "; ".join(changes)}
        entries.append({"at": record.history_date, "text": text})
        before = record
    return entries


# --- Registrations (PaymentsConfig.ready) -----------------------------------------------------


def register():
    """Fill the lower apps' hooks: the pupil page's and the claim page's payee sections, and
    the pupil's payees and claim choices for forgetting a pupil in the audit log."""
    # Imported here: the views import this module (and the app registry must be ready).
    from compensations import hooks as compensations_hooks
    from iap_portal import audit
    from students import hooks as students_hooks

    from . import payee_views

    students_hooks.pupil_page.register("payees")(payee_views.pupil_page_payees)
    compensations_hooks.claim_page.register("payees")(payee_views.claim_page_payee)
    audit.PUPIL_OBJECTS.register(Payee._meta.label)(
        lambda ids: Payee.objects.filter(student_id__in=ids).values_list("pk", flat=True)
    )
    audit.PUPIL_OBJECTS.register(ClaimPayee._meta.label)(
        lambda ids: ClaimPayee.objects.filter(claim__plan__student_id__in=ids).values_list(
            "pk", flat=True
        )
    )
