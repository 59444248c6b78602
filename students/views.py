from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.sessions import end_all_sessions
from accounts.two_factor import remove_devices
from iap_portal import audit
from iap_portal.exports import export_response
from iap_portal.forms import parse_id
from iap_portal.models import AuditEvent
from iap_portal.pagination import paginate
from iap_portal.users import display_name

from . import services
from .access import (
    CALENDAR_VIEWERS,
    STAFF_ROLES,
    can_edit_calendar,
    can_edit_student,
    can_manage_account,
    current_school_year,
    get_access,
    get_class_group_or_404,
    get_membership_or_404,
    get_school_year_or_404,
    get_student_or_404,
    manageable_accounts,
    managed_schools,
    require_roles,
    who_can_see,
)
from .exports import pupils_query
from .forms import (
    ApprovalRoutesForm,
    ClassGroupForm,
    GuardianFormSet,
    ImportUploadForm,
    SchoolYearForm,
    StaffMemberForm,
    StudentForm,
)
from .hooks import pupil_page
from .importer import ImportFileError, check_rows, read_table
from .models import (
    SCHOOL_ROLES,
    ClassGroup,
    Membership,
    Municipality,
    Role,
    School,
    SchoolYear,
    Semester,
    StaffInvitation,
    Student,
)

IMPORT_SESSION_KEY = "students_import"


# --- Pupils ---------------------------------------------------------------------------------


@login_required
def student_list(request):
    require_roles(request.user, *SCHOOL_ROLES)
    export = export_response(request, "pupils")
    if export:
        return export
    student_filter, qs, year = pupils_query(request.user, request.GET)
    page = paginate(request, qs)
    audit.record_list(
        request,
        "pupils",
        [s.pk for s in page.object_list],
        schools=[s.school_id for s in page.object_list],
    )
    return render(
        request,
        "students/student_list.html",
        {
            "filter": student_filter,
            "page": page,
            "school_year": year,
            "can_manage": bool(get_access(request.user).coordinated_school_ids),
            "is_filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


@login_required
def student_detail(request, pk):
    student = get_student_or_404(request.user, pk)
    audit.record(
        request, AuditEvent.Action.VIEW_PUPIL, school=student.school, obj=student, student=student
    )
    enrollments = student.enrollments.select_related("class_group", "school_year").order_by(
        "-school_year__start_year"
    )
    return render(
        request,
        "students/student_detail.html",
        {
            "student": student,
            "enrollments": enrollments,
            "guardians": student.guardians.all(),
            "can_edit": can_edit_student(request.user, student),
            **{
                name: value
                for section in pupil_page.values()
                for name, value in section(request, student).items()
            },
            "access_list": who_can_see(student)
            if get_access(request.user).school_ids(*STAFF_ROLES)
            else None,
        },
    )


def _student_form(request, student=None):
    year = current_school_year(request.user)
    if year is None:
        messages.error(request, _("No school year exists yet: a school year must be added first."))
        return redirect("student_list")
    schools = managed_schools(request.user)
    if student is None:
        student = Student()
    data = request.POST if request.method == "POST" else None
    form = StudentForm(data, instance=student, schools=schools, school_year=year)
    guardians = GuardianFormSet(data, instance=student, prefix="guardians")
    if request.method == "POST" and form.is_valid() and guardians.is_valid():
        created = student.pk is None
        changed_guardians = guardians.save(commit=False)  # fills guardians.deleted_objects
        student = services.save_student(
            student=form.save(commit=False),
            guardians=changed_guardians,
            removed_guardians=guardians.deleted_objects,
            school_year=year,
            class_group=form.cleaned_data.get("class_group"),
        )
        message = (
            _("The pupil %(name)s was added.") if created else _("Changes to %(name)s were saved.")
        )
        messages.success(request, message % {"name": student.full_name})
        return redirect("student_detail", pk=student.pk)
    return render(
        request,
        "students/student_form.html",
        {"form": form, "guardians": guardians, "student": student, "school_year": year},
    )


@login_required
def student_create(request):
    require_roles(request.user, Role.COORDINATOR)
    return _student_form(request)


@login_required
def student_update(request, pk):
    student = get_student_or_404(request.user, pk, for_edit=True)
    # The form shows the full personal code.
    audit.record_view(
        request,
        AuditEvent.Action.VIEW_PUPIL,
        school=student.school_id,
        obj=student,
        detail="edit",
        student=student,
    )
    return _student_form(request, student)


# --- Import ---------------------------------------------------------------------------------


@login_required
def student_import(request):
    require_roles(request.user, Role.COORDINATOR)
    year = current_school_year(request.user)
    schools = managed_schools(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, schools=schools)
    check = None
    if request.method == "POST" and form.is_valid():
        school = form.cleaned_data["school"]
        if year is None:
            form.add_error(None, _("No school year exists yet: a school year must be added first."))
        else:
            try:
                rows = read_table(form.cleaned_data["file"])
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                check = check_rows(rows, school=school, school_year=year)
                # The check tells which rows are the school's pupils ("known pupil: update").
                audit.record_list(
                    request,
                    "pupil import check",
                    [row.student_id for row in check.rows if row.student_id],
                    schools=[school.pk],
                )
                if check.is_valid:
                    request.session[IMPORT_SESSION_KEY] = {
                        "school": school.pk,
                        "year": year.pk,
                        "name": form.cleaned_data["file"].name,
                        "rows": rows,
                    }
                else:
                    request.session.pop(IMPORT_SESSION_KEY, None)
    return render(
        request,
        "students/student_import.html",
        {"form": form, "check": check, "school_year": year},
    )


@login_required
@require_POST
def student_import_confirm(request):
    require_roles(request.user, Role.COORDINATOR)
    pending = request.session.get(IMPORT_SESSION_KEY)
    if not pending:
        messages.error(request, _("There is no checked file to import: upload it again."))
        return redirect("student_import")
    school = managed_schools(request.user).filter(pk=pending["school"]).first()
    year = SchoolYear.objects.filter(pk=pending["year"]).first()
    if school is None or year is None:
        request.session.pop(IMPORT_SESSION_KEY, None)
        messages.error(request, _("There is no checked file to import: upload it again."))
        return redirect("student_import")
    # Check again: the school's pupils may have changed since the preview.
    check = check_rows([tuple(r) for r in pending["rows"]], school=school, school_year=year)
    if not check.is_valid:
        request.session.pop(IMPORT_SESSION_KEY, None)
        messages.error(request, _("The pupils changed since the check: upload the file again."))
        return redirect("student_import")
    counts = services.import_students(check=check, school=school, school_year=year)
    request.session.pop(IMPORT_SESSION_KEY, None)
    parts = [
        ngettext("%(count)d pupil added", "%(count)d pupils added", counts["created"])
        % {"count": counts["created"]},
        ngettext("%(count)d pupil updated", "%(count)d pupils updated", counts["updated"])
        % {"count": counts["updated"]},
        ngettext("%(count)d class created", "%(count)d classes created", counts["classes"])
        % {"count": counts["classes"]},
    ]
    messages.success(request, _("Import done: %(summary)s.") % {"summary": ", ".join(parts)})
    return redirect("student_list")


# --- Classes --------------------------------------------------------------------------------


@login_required
def class_list(request):
    require_roles(request.user, Role.COORDINATOR)
    years = list(SchoolYear.objects.all())
    current = current_school_year(request.user)
    year = current
    wanted = request.GET.get("year")
    if parse_id(wanted):
        year = next((y for y in years if y.pk == parse_id(wanted)), current)
    groups = (
        ClassGroup.objects.filter(school__in=managed_schools(request.user), school_year=year)
        .select_related("school", "school_year")
        .prefetch_related("class_teachers")
        .annotate(pupil_count=Count("enrollments"))
        .order_by("school__name", "grade", "letter")
    )
    return render(
        request,
        "students/class_list.html",
        {"groups": groups, "years": years, "year": year, "current_year": current},
    )


def _class_form(request, group):
    schools = managed_schools(request.user)
    form = ClassGroupForm(request.POST or None, instance=group, schools=schools)
    if request.method == "POST" and form.is_valid():
        created = group.pk is None
        group = services.save_class_group(
            group=form.save(commit=False), teachers=list(form.cleaned_data["class_teachers"])
        )
        messages.success(
            request,
            (_("Class %(label)s was added.") if created else _("Class %(label)s was saved."))
            % {"label": group.label},
        )
        return redirect(f"{reverse('class_list')}?year={group.school_year_id}")
    return render(request, "students/class_form.html", {"form": form, "group": group})


@login_required
def class_create(request):
    require_roles(request.user, Role.COORDINATOR)
    return _class_form(request, ClassGroup())


@login_required
def class_update(request, pk):
    group = get_class_group_or_404(request.user, pk, for_edit=True)
    return _class_form(request, group)


# --- Staff ----------------------------------------------------------------------------------


@login_required
def staff_list(request):
    require_roles(request.user, Role.COORDINATOR)
    memberships = (
        Membership.objects.filter(school__in=managed_schools(request.user))
        .select_related("user", "school", "specialist_type")
        .annotate(
            has_two_factor=Exists(
                TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
            )
        )
        .order_by("school__name", "user__last_name", "user__first_name", "role")
    )
    page = paginate(request, memberships)
    manageable = manageable_accounts(request.user, {m.user_id for m in page.object_list})
    invitations = (
        StaffInvitation.objects.pending()
        .filter(school__in=managed_schools(request.user))
        .select_related("school", "specialist_type")
        .order_by("school__name", "last_name", "first_name")
    )
    return render(
        request,
        "students/staff_list.html",
        {"page": page, "invitations": invitations, "manageable": manageable},
    )


@login_required
def staff_create(request):
    require_roles(request.user, Role.COORDINATOR)
    form = StaffMemberForm(request.POST or None, schools=managed_schools(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invitation = services.invite_staff_member(
            school=data["school"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            role=data["role"],
            specialist_type=data["specialist_type"],
            by=request.user,
            request=request,
        )
        # The same answer whether the address has an account or not.
        messages.success(
            request,
            _("An invitation was sent to %(email)s. The role %(role)s begins when they accept it.")
            % {"email": invitation.email, "role": invitation.get_role_display()},
        )
        return redirect("staff_list")
    return render(request, "students/staff_form.html", {"form": form})


@login_required
@require_POST
def staff_invitation_withdraw(request, pk):
    require_roles(request.user, Role.COORDINATOR)
    invitation = get_object_or_404(
        StaffInvitation.objects.pending(), pk=pk, school__in=managed_schools(request.user)
    )
    services.withdraw_invitation(invitation=invitation, request=request)
    messages.success(
        request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email}
    )
    return redirect("staff_list")


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The invited person, signed in with the address the invitation went to, accepts or
    declines it. Anyone else, and an invitation no longer open, gets 404."""
    found = (
        StaffInvitation.objects.pending()
        .filter(token=token, email__iexact=request.user.email)
        .select_related("school", "invited_by", "specialist_type")
        .first()
        if request.user.email
        else None
    )
    if found is None:
        raise Http404
    if request.method == "POST":
        accept = request.POST.get("answer") == "accept"
        try:
            services.answer_invitation(
                invitation=found, user=request.user, accept=accept, request=request
            )
        except services.InvitationError as error:
            messages.error(request, error.messages[0])
        else:
            if accept:
                messages.success(
                    request,
                    _("You now have the role %(role)s in %(school)s.")
                    % {"role": found.get_role_display(), "school": found.school.name},
                )
            else:
                messages.info(request, _("You declined the invitation."))
        return redirect("home")
    return render(request, "students/invitation.html", {"invitation": found})


@login_required
@require_http_methods(["GET", "POST"])
def staff_remove(request, pk):
    require_roles(request.user, Role.COORDINATOR)
    membership = get_membership_or_404(request.user, pk)
    if membership.user_id == request.user.pk and membership.role == Role.COORDINATOR:
        messages.error(request, _("You cannot remove your own coordinator role."))
        return redirect("staff_list")
    if request.method == "POST":
        services.remove_staff_member(membership=membership)
        messages.success(
            request,
            _("The role %(role)s of %(name)s was removed.")
            % {
                "role": membership.get_role_display(),
                "name": display_name(membership.user),
            },
        )
        return redirect("staff_list")
    return render(request, "students/staff_confirm_remove.html", {"membership": membership})


# --- School calendar ------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reset_for_member(request, pk):
    """A coordinator removes a colleague's authenticator (a lost phone); they set up a new one
    at their next sign-in, and every session of theirs ends."""
    require_roles(request.user, Role.COORDINATOR)
    membership = get_membership_or_404(request.user, pk)
    member = membership.user
    if member.pk == request.user.pk:
        messages.error(request, _("Change your own two-factor sign-in on your own settings page."))
        return redirect("staff_list")
    if not can_manage_account(request.user, member):
        # A role elsewhere (another school, a municipality, IKVD) or an administrator: only
        # whoever holds all their roles may reset them.
        raise Http404
    if request.method == "POST":
        with transaction.atomic():
            remove_devices(member)
            audit.record(
                request,
                AuditEvent.Action.TWO_FACTOR_CHANGE,
                school=membership.school,
                obj=member,
                detail=f"reset for {member.get_username()}",
            )
        end_all_sessions(member)
        messages.success(
            request,
            _(
                "Two-factor sign-in of %(name)s was reset. They set it up again at their "
                "next sign-in."
            )
            % {"name": display_name(member)},
        )
        return redirect("staff_list")
    return render(request, "registration/two_factor_reset.html", {"membership": membership})


@login_required
def calendar_list(request):
    require_roles(request.user, *CALENDAR_VIEWERS)
    years = SchoolYear.objects.prefetch_related(
        Prefetch("semesters", queryset=Semester.objects.order_by("number"))
    ).order_by("-start_year")
    return render(
        request,
        "students/calendar_list.html",
        {
            "years": years,
            "current_year": current_school_year(request.user),
            "can_edit": can_edit_calendar(request.user),
        },
    )


@login_required
def calendar_create(request):
    require_roles(request.user, Role.COORDINATOR)
    form = SchoolYearForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        first, second = form.periods
        try:
            year = services.create_school_year(
                start_year=form.cleaned_data["start_year"],
                first_semester=first,
                second_semester=second,
            )
        except ValidationError as exc:
            form.add_error("start_year", exc)
        else:
            messages.success(
                request, _("The school year %(name)s was added.") % {"name": year.name}
            )
            return redirect("calendar")
    return render(request, "students/calendar_form.html", {"form": form, "year": None})


@login_required
def calendar_update(request, pk):
    year = get_school_year_or_404(request.user, pk, for_edit=True)
    form = SchoolYearForm(request.POST or None, school_year=year)
    if request.method == "POST" and form.is_valid():
        first, second = form.periods
        services.update_school_year(school_year=year, first_semester=first, second_semester=second)
        messages.success(
            request,
            _("The dates of the school year %(name)s were saved.") % {"name": year.name},
        )
        return redirect("calendar")
    return render(request, "students/calendar_form.html", {"form": form, "year": year})


# --- Approval routes (IKVD) -----------------------------------------------------------------


@login_required
def approval_routes(request):
    require_roles(request.user, Role.AGENCY)
    municipalities = Municipality.objects.annotate(
        schools_count=Count("schools", distinct=True),
        own_routes=Count("schools", filter=~Q(schools__approval_route=""), distinct=True),
    ).order_by("name")
    return render(request, "students/approval_routes.html", {"municipalities": municipalities})


@login_required
@require_http_methods(["GET", "POST"])
def approval_route_edit(request, pk):
    require_roles(request.user, Role.AGENCY)
    municipality = get_object_or_404(Municipality, pk=pk)
    schools = School.objects.filter(municipality=municipality).order_by("name")
    form = ApprovalRoutesForm(request.POST or None, municipality=municipality, schools=schools)
    if request.method == "POST" and form.is_valid():
        services.set_approval_routes(
            municipality=municipality,
            route=form.cleaned_data["route"],
            school_routes=form.school_routes(),
            by=request.user,
            revision_lowering_school_only=form.cleaned_data["revision_lowering_school_only"],
        )
        messages.success(request, _("The approval routes were saved."))
        return redirect("approval_routes")
    return render(
        request,
        "students/approval_route_form.html",
        {"municipality": municipality, "form": form},
    )
