"""Writes that span several models: the calendar, a pupil with their class, the import, staff."""

from collections.abc import Iterable
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from iap_portal import audit
from iap_portal.actions import require
from iap_portal.models import AuditEvent

from .access import get_access
from .mail import send_invitation_email
from .models import (
    ClassGroup,
    Enrollment,
    Guardian,
    Membership,
    Municipality,
    Role,
    School,
    SchoolYear,
    Semester,
    StaffInvitation,
    Student,
)

User = get_user_model()


Period = tuple[date, date]


def school_year_exists_error(start_year: int) -> ValidationError:
    name = SchoolYear(start_year=start_year).name
    return ValidationError(
        _("The school year %(name)s already exists.") % {"name": name}, code="exists"
    )


def create_school_year(
    *, start_year: int, first_semester: Period, second_semester: Period
) -> SchoolYear:
    """Add a school year with both its semesters, all or nothing.

    Raises ValidationError when the year exists (also when someone else added it a moment
    ago, between the form's check and this write)."""
    try:
        with transaction.atomic():
            year = SchoolYear.objects.create(start_year=start_year)
            Semester.objects.bulk_create(
                Semester(school_year=year, number=number, start_date=start, end_date=end)
                for number, (start, end) in (
                    (Semester.Number.FIRST, first_semester),
                    (Semester.Number.SECOND, second_semester),
                )
            )
    except IntegrityError:
        if SchoolYear.objects.filter(start_year=start_year).exists():
            raise school_year_exists_error(start_year) from None
        raise
    return year


@transaction.atomic
def update_school_year(
    *, school_year: SchoolYear, first_semester: Period, second_semester: Period
) -> SchoolYear:
    """Set the dates of both semesters (adding one that is missing, e.g. after the admin)."""
    for number, (start, end) in (
        (Semester.Number.FIRST, first_semester),
        (Semester.Number.SECOND, second_semester),
    ):
        Semester.objects.update_or_create(
            school_year=school_year,
            number=number,
            defaults={"start_date": start, "end_date": end},
        )
    return school_year


def set_enrollment(*, student: Student, school_year: SchoolYear, class_group: ClassGroup | None):
    """Put the pupil in this class for the year (or in none)."""
    if class_group is None:
        Enrollment.objects.filter(student=student, school_year=school_year).delete()
        return None
    enrollment, _created = Enrollment.objects.update_or_create(
        student=student, school_year=school_year, defaults={"class_group": class_group}
    )
    return enrollment


@transaction.atomic
def save_student(
    *,
    student: Student,
    guardians: Iterable[Guardian],
    removed_guardians: Iterable[Guardian],
    school_year: SchoolYear,
    class_group: ClassGroup | None,
) -> Student:
    """Save the pupil (new or changed, not yet saved), their new and changed guardians, remove
    the removed ones, and put the pupil in ``class_group`` for the year (or in none)."""
    student.save()
    for guardian in removed_guardians:
        guardian.delete()
    for guardian in guardians:
        guardian.student = student  # a new pupil has its pk only now
        guardian.save()
    set_enrollment(student=student, school_year=school_year, class_group=class_group)
    return student


@transaction.atomic
def import_students(*, check, school: School, school_year: SchoolYear) -> dict:
    """Save a fully valid import check; all or nothing."""
    if not check.is_valid:
        raise ValueError("Only a valid import can be saved.")
    classes = {
        (g.grade, g.letter): g
        for g in ClassGroup.objects.filter(school=school, school_year=school_year)
    }
    existing = Student.objects.in_bulk([row.student_id for row in check.rows if row.student_id])
    counts = {"created": 0, "updated": 0, "classes": 0}
    for row in check.rows:
        data = row.cleaned
        key = (data["grade"], data["letter"])
        group = classes.get(key)
        if group is None:
            group = ClassGroup.objects.create(
                school=school, school_year=school_year, grade=data["grade"], letter=data["letter"]
            )
            classes[key] = group
            counts["classes"] += 1
        student = existing.get(row.student_id) if row.student_id else None
        fields = {
            name: data[name]
            for name in ("first_name", "last_name", "personas_kods", "birth_date", "gender")
        }
        if student is None or student.school_id != school.pk:
            student = Student.objects.create(school=school, **fields)
            counts["created"] += 1
        else:
            # Keep what the file leaves blank; the e-journal's values win otherwise.
            changed = [
                n for n, v in fields.items() if v not in ("", None) and getattr(student, n) != v
            ]
            for name in changed:
                setattr(student, name, fields[name])
            if changed:
                student.save(update_fields=[*changed, "updated_at"])
            counts["updated"] += 1
        set_enrollment(student=student, school_year=school_year, class_group=group)
    return counts


@transaction.atomic
def save_class_group(*, group: ClassGroup, teachers: Iterable[AbstractBaseUser]) -> ClassGroup:
    """Save the class (new or changed, not yet saved) with these class teachers, and give each
    of its teachers the class teacher role in the school."""
    group.save()
    group.class_teachers.set(teachers)
    for teacher in group.class_teachers.all():
        Membership.objects.get_or_create(user=teacher, school=group.school, role=Role.CLASS_TEACHER)
    return group


INVITATION_DAYS = 14


@transaction.atomic
def invite_staff_member(
    *, school, email, first_name, last_name, role, specialist_type, by, request
) -> StaffInvitation:
    """Offer a person a role in the school by e-mail. The role begins when they accept it,
    signed in with that address: an existing account is never attached to a school by
    someone else. A new address gets an account with a link to set its password. The inviter
    learns nothing of either (the answer and the staff list are the same in both cases)."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    created = user is None
    if created:
        user = User(username=email, email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.save()
    invitation = StaffInvitation.objects.create(
        school=school,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        specialist_type=specialist_type,
        invited_by=by,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    audit.record(request, AuditEvent.Action.STAFF_INVITED, school=school, obj=invitation)
    transaction.on_commit(
        lambda: send_invitation_email(
            invitation=invitation, user=user, new_account=created, request=request
        )
    )
    return invitation


class InvitationError(ValidationError):
    pass


@transaction.atomic
def answer_invitation(*, invitation: StaffInvitation, user, accept: bool, request) -> None:
    """The invited person accepts (their role begins) or declines."""
    locked = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not StaffInvitation.objects.pending().filter(pk=locked.pk).exists():
        raise InvitationError(_("This invitation is no longer open."))
    if user.email.strip().lower() != locked.email:
        raise InvitationError(_("This invitation is for another e-mail address."))
    now = timezone.now()
    if accept:
        Membership.objects.get_or_create(
            user=user,
            school=locked.school,
            role=locked.role,
            defaults={"specialist_type": locked.specialist_type},
        )
        locked.accepted_at = now
    else:
        locked.declined_at = now
    locked.save(update_fields=["accepted_at", "declined_at"])
    audit.record(
        request,
        AuditEvent.Action.STAFF_JOINED if accept else AuditEvent.Action.STAFF_DECLINED,
        school=locked.school,
        obj=locked,
    )


@transaction.atomic
def withdraw_invitation(*, invitation: StaffInvitation, request) -> None:
    StaffInvitation.objects.filter(pk=invitation.pk).pending().update(expires_at=timezone.now())
    audit.record(
        request, AuditEvent.Action.STAFF_WITHDRAWN, school=invitation.school, obj=invitation
    )


@transaction.atomic
def remove_staff_member(*, membership: Membership) -> None:
    if membership.role == Role.CLASS_TEACHER:
        # Past years keep who taught the class; from this year on the teacher is removed.
        current = SchoolYear.objects.current()
        for group in ClassGroup.objects.filter(
            school=membership.school,
            class_teachers=membership.user,
            school_year__start_year__gte=current.start_year if current else 0,
        ):
            group.class_teachers.remove(membership.user)
    membership.delete()


@transaction.atomic
def set_approval_routes(
    *,
    municipality: Municipality,
    route: str,
    school_routes: dict,
    by: AbstractBaseUser,
    revision_lowering_school_only: bool | None = None,
) -> None:
    """IKVD sets a municipality's approval route and its schools' own ones (``""``: the
    municipality's), and whether a revision that only lowers amounts needs the school alone
    (None: unchanged); each change is an audit event. A plan already waiting keeps its level
    and goes on by the new route."""
    require(get_access(by).has_role(Role.AGENCY), _("Approval routes are set by IKVD."))
    if (
        revision_lowering_school_only is not None
        and municipality.revision_lowering_school_only != revision_lowering_school_only
    ):
        Municipality.objects.filter(pk=municipality.pk).update(
            revision_lowering_school_only=revision_lowering_school_only
        )
        audit.record(
            None,
            AuditEvent.Action.STATUS,
            user=by,
            obj=municipality,
            detail=f"revisions lowering amounts only of {municipality}: "
            + ("school level alone" if revision_lowering_school_only else "whole route"),
        )
        municipality.revision_lowering_school_only = revision_lowering_school_only
    if municipality.approval_route != route:
        before = municipality.approval_route
        Municipality.objects.filter(pk=municipality.pk).update(approval_route=route)
        audit.record(
            None,
            AuditEvent.Action.STATUS,
            user=by,
            obj=municipality,
            detail=f"approval route of {municipality}: {before} → {route}",
        )
        municipality.approval_route = route
    for school, school_route in school_routes.items():
        require(
            school.municipality_id == municipality.pk, _("The school is of another municipality.")
        )
        if school.approval_route == school_route:
            continue
        before = school.approval_route or "-"
        School.objects.filter(pk=school.pk).update(approval_route=school_route)
        audit.record(
            None,
            AuditEvent.Action.STATUS,
            user=by,
            obj=school,
            school=school,
            detail=f"approval route of {school}: {before} → {school_route or '-'}",
        )
        school.approval_route = school_route
