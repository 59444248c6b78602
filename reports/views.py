from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from iap_portal import audit
from iap_portal.exports import XLSX_TYPE, csv_response, xlsx_response
from iap_portal.models import AuditEvent
from iap_portal.pagination import paginate
from iap_portal.pdf import render_pdf
from iap_portal.users import display_name
from plans.access import get_plan_or_404
from plans.models import SupportPlan
from students.access import STAFF_ROLES, get_access, managed_schools, require_roles
from students.models import Municipality, Role, School, SchoolYear, Semester

from . import charts as charts_module
from . import files, indicators, outcomes, snapshots
from .documents import plan_documents, plan_pdf_name, render_plan_pdf
from .forms import BundleForm
from .models import ExportJob, PlanBundle
from .participation import low_delivery_plans
from .tasks import build_bundle

# --- Plan PDF -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def plan_pdf(request, public_id):
    plan = get_plan_or_404(request.user, public_id=public_id)
    audit.record(
        request, AuditEvent.Action.PDF, school=plan.school, obj=plan, student=plan.student_id
    )
    (document,) = plan_documents(SupportPlan.objects.filter(pk=plan.pk))
    pdf = render_plan_pdf(document, generated_by=display_name(request.user), request=request)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{plan_pdf_name(plan)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Participation report -------------------------------------------------------------------


def report_scopes(user):
    """The scopes this user may report on: [(key, label, schools queryset or None for all,
    aggregate?)]."""
    user_access = get_access(user)
    scopes = []
    for school in School.objects.filter(pk__in=user_access.school_ids(*STAFF_ROLES)).order_by(
        "name"
    ):
        scopes.append(
            (f"school-{school.pk}", school.name, School.objects.filter(pk=school.pk), False)
        )
    municipalities = Municipality.objects.filter(
        pk__in=[m.municipality_id for m in user_access.memberships if m.role == Role.MUNICIPALITY]
    )
    if user_access.has_role(Role.AGENCY):
        # None: every school, with no school condition in the report's queries. Then each
        # municipality, so that the agency can narrow 600 schools down to one municipality's.
        scopes.append(("all", _("All schools"), None, True))
        municipalities = Municipality.objects.all()
    for municipality in municipalities.order_by("name"):
        scopes.append(
            (
                f"municipality-{municipality.pk}",
                municipality.name,
                School.objects.filter(municipality=municipality),
                True,
            )
        )
    return scopes


def _semester_choice(data):
    """(every semester newest first, the one ``data`` (GET or POST) asks for or the default)."""
    semesters = list(Semester.objects.select_related("school_year").order_by("-start_date"))
    wanted = data.get("semester", "")
    chosen = next((s for s in semesters if str(s.pk) == wanted), None)
    return semesters, chosen or snapshots.default_semester(semesters)


def _report_scope(scopes, wanted):
    return next((s for s in scopes if s[0] == wanted), scopes[0])


def csv_sections(tables):
    """Every table of the report in one CSV, each as a section: its title, its header and its
    rows, then an empty line. One file rather than a ZIP of files: it opens in a spreadsheet
    as it is, and the sections read in the order of the page."""
    for table in tables:
        yield [str(table.title)]
        yield from table.export_rows()
        yield []


@login_required
@require_http_methods(["GET"])
def participation_report(request):
    scopes = report_scopes(request.user)
    if not scopes:
        raise PermissionDenied
    key, label, schools, aggregate = _report_scope(scopes, request.GET.get("scope"))
    semesters, semester = _semester_choice(request.GET)

    computed_at = None
    if aggregate:  # the country's figures, protected together: shared and kept
        snap = snapshots.snapshot(semester)
        main, share, risks, tables = snapshots.scope_tables(snap, key, semester)
        computed_at = snap.computed_at
    else:
        main, share, risks, tables = snapshots.school_tables(schools, semester)
        if semester and semester.end_date < timezone.localdate():
            tables = [*tables, low_delivery_plans(schools, semester)]

    export = request.GET.get("format")
    charts = {}
    if export in (None, "", "pdf"):
        if aggregate:
            charts = snapshots.scope_charts(snap, key, semester, main, [risks, *tables])
        else:
            charts = charts_module.cached_charts(
                charts_module.content_key(key, main, [risks, *tables]), main, [risks, *tables]
            )
    filename = f"daliba-{timezone.localdate():%Y-%m-%d}"
    every_table = [main, share, risks, *tables]
    if export == "csv" and request.GET.get("part") == "early_warning":
        return csv_response(list(share.export_rows()), f"{filename}-agrina-bridinasana")
    if export == "csv":
        return csv_response(csv_sections(every_table), filename)
    if export == "xlsx":
        sheets = [(t.sheet, list(t.export_rows())) for t in every_table]
        return xlsx_response(sheets, filename)
    context = {
        "scopes": scopes,
        "scope_key": key,
        "scope_label": label,
        "aggregate": aggregate,
        "semesters": semesters,
        "semester": semester,
        "main": main,
        "share": share,
        "risks": risks,
        "tables": tables,
        "charts": charts,
        "table_charts": [(table, charts.get(table.key)) for table in tables],
        "computed_at": computed_at,
        "may_refresh": computed_at is not None and snapshots.is_stale(computed_at),
        "generated_by": display_name(request.user),
        "generated_at": timezone.localtime(),
    }
    if export == "pdf":
        context["print_parts"], context["parts_left_out"] = charts_module.print_parts(
            charts.get("parts", [])
        )
        pdf = render_pdf("reports/participation_pdf.html", context, request=request)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
        return response
    query = request.GET.copy()
    query.pop("format", None)
    context["query"] = query.urlencode()
    return render(request, "reports/participation.html", context)


def _scope_unit(key):
    """The unit of the national figures an aggregate scope key reads: the country ("all") or
    a municipality."""
    return indicators.ALL if key == "all" else ("m", snapshots.municipality_of_scope(key))


def _a_year_later(key, schools, aggregate, year):
    """(the next school year or None, the tables of where year's participants were in it —
    empty until it has classes)."""
    later = outcomes.next_year(year) if year else None
    if not outcomes.has_started(later):
        return later, []
    if aggregate:
        people, figures = outcomes.cached_national_outcomes(year, later)
        unit = _scope_unit(key)
        schools_part, municipalities_part = outcomes.scope_parts(people, unit)
        return later, outcomes.tables(
            figures, unit, schools=schools_part, municipalities=municipalities_part
        )
    people = outcomes.followed(schools, year, later)
    return later, outcomes.tables(outcomes.school_outcomes(people), outcomes.ALL)


@login_required
@require_http_methods(["GET"])
def esf_indicators(request):
    """The ESF participant indicators of a school year, for a scope; the school's coordinator
    also downloads the participant list (personal data: never above the school)."""
    scopes = report_scopes(request.user)
    if not scopes:
        raise PermissionDenied
    key, label, schools, aggregate = _report_scope(scopes, request.GET.get("scope"))
    years = list(SchoolYear.objects.order_by("-start_year"))
    wanted = request.GET.get("year", "")
    year = next((y for y in years if str(y.pk) == wanted), None) or (
        SchoolYear.objects.current() or (years[0] if years else None)
    )
    people = []
    if year is None:
        figures = indicators.school_indicators([])
    elif aggregate:
        national = indicators.cached_national_indicators(year)
        figures = national.get(_scope_unit(key)) or indicators.school_indicators([])
    else:
        people = indicators.participants(schools, year)
        figures = indicators.school_indicators(people)
    tables = figures.tables()
    later_year, later_tables = _a_year_later(key, schools, aggregate, year)
    may_list = not aggregate and get_access(request.user).has_role(Role.COORDINATOR)
    if request.GET.get("format") == "xlsx":
        sheets = [(t.title, list(t.export_rows())) for t in [*tables, *later_tables]]
        if may_list:
            sheets.append(
                (pgettext("sheet", "Participant list"), list(indicators.participant_rows(people)))
            )
            audit.record_list(
                request,
                "esf_participants",
                [p.student_id for p in people],
                schools=[p.school_id for p in people],
            )
        return xlsx_response(sheets, f"esf-raditaji-{year.start_year if year else ''}")
    charts = charts_module.cached_esf_charts(f"{key}:{year.pk if year else ''}", tables)
    return render(
        request,
        "reports/esf_indicators.html",
        {
            "scopes": scopes,
            "scope_key": key,
            "scope_label": label,
            "aggregate": aggregate,
            "years": years,
            "year": year,
            "tables": tables,
            "table_charts": [(t, charts.get(t.key)) for t in tables],
            "later_year": later_year,
            "later_started": bool(later_tables),
            "later_tables": later_tables,
            "may_list": may_list,
            "participants": len(people),
        },
    )


@login_required
@require_http_methods(["POST"])
def participation_refresh(request):
    """ "Refresh now" on an aggregate report whose figures are older than FRESH_FOR."""
    scopes = [s for s in report_scopes(request.user) if s[3]]
    if not scopes:
        raise PermissionDenied
    key = _report_scope(scopes, request.POST.get("scope"))[0]
    _semesters, semester = _semester_choice(request.POST)
    snap = snapshots.snapshot(semester, refresh_in_background=False)
    if not snap.stale:
        messages.info(request, _("The figures are up to date."))
    elif snapshots.refresh_now(semester):
        messages.success(request, _("The figures have been refreshed."))
    else:
        messages.info(request, _("The figures are being refreshed; reload the page in a moment."))
    query = {"scope": key}
    if semester is not None:
        query["semester"] = semester.pk
    return redirect(f"{reverse('participation_report')}?{urlencode(query)}")


# --- Work on the task queue ------------------------------------------------------------------


def _progress_page(request, kind, job, name=None):
    """A queued job's page; htmx's polls get only its progress part, until it has finished."""
    template = (
        f"reports/includes/{kind}_progress.html"
        if request.headers.get("HX-Request")
        else f"reports/{kind}_detail.html"
    )
    return render(request, template, {name or kind: job})


# --- Semester bundles -----------------------------------------------------------------------


def _bundles(user):
    return PlanBundle.objects.filter(school__in=managed_schools(user)).select_related(
        "school", "semester__school_year", "requested_by"
    )


def _get_bundle_or_404(user, public_id):
    bundle = _bundles(user).filter(public_id=public_id).first()
    if bundle is None:
        raise Http404
    return bundle


@login_required
@require_http_methods(["GET", "POST"])
def bundle_list(request):
    require_roles(request.user, Role.COORDINATOR)
    schools = managed_schools(request.user)
    form = BundleForm(request.POST or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        bundle = PlanBundle.objects.create(
            school=form.cleaned_data["school"],
            semester=form.cleaned_data["semester"],
            requested_by=request.user,
        )
        transaction.on_commit(lambda: build_bundle.enqueue(bundle_id=str(bundle.public_id)))
        # No message: one would stay on the page after the bundle is ready. Its progress part
        # says what is happening, in step with the status.
        return redirect("bundle_detail", public_id=bundle.public_id)
    bundles = paginate(request, _bundles(request.user))
    return render(request, "reports/bundle_list.html", {"form": form, "page": bundles})


@login_required
@require_http_methods(["GET"])
def bundle_detail(request, public_id):
    require_roles(request.user, Role.COORDINATOR)
    return _progress_page(request, "bundle", _get_bundle_or_404(request.user, public_id))


@login_required
@require_http_methods(["GET"])
def bundle_download(request, public_id, kind):
    require_roles(request.user, Role.COORDINATOR)
    bundle = _get_bundle_or_404(request.user, public_id)
    if kind not in {"pdf", "zip"}:
        raise Http404
    stored = bundle.pdf if kind == "pdf" else bundle.zip
    if bundle.status != PlanBundle.Status.DONE or not stored or files.has_expired(bundle):
        raise Http404
    audit.record(request, AuditEvent.Action.FILE, school=bundle.school, obj=bundle, detail=kind)
    name = f"IAP-{bundle.semester}".replace("/", "-").replace(" ", "-")
    response = FileResponse(
        stored.open("rb"),
        as_attachment=True,
        filename=f"{name}.{kind}",
        content_type="application/pdf" if kind == "pdf" else "application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Queued exports -------------------------------------------------------------------------


def _get_export_or_404(user, public_id):
    """The user's own export, while it has not expired and they still hold the roles it was
    written with."""
    job = ExportJob.objects.filter(public_id=public_id, requested_by=user).first()
    if job is None or files.has_expired(job) or not files.still_entitled(job, user):
        raise Http404
    return job


@login_required
@require_http_methods(["GET"])
def export_detail(request, public_id):
    return _progress_page(request, "export", _get_export_or_404(request.user, public_id), "job")


@login_required
@require_http_methods(["GET"])
def export_download(request, public_id):
    job = _get_export_or_404(request.user, public_id)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404
    for school_id in job.schools or (None,):
        audit.record(
            request, AuditEvent.Action.FILE, school=school_id, obj=job, detail=job.filename
        )
    response = FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type="text/csv; charset=utf-8" if job.format == "csv" else XLSX_TYPE,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
