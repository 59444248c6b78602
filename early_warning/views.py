from datetime import date
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from iap_portal import audit
from iap_portal.models import AuditEvent
from iap_portal.pagination import paginate
from students.access import (
    STAFF_ROLES,
    can_manage_school,
    chosen_school,
    get_access,
    get_student_or_404,
    managed_schools,
    require_roles,
)
from students.importer import ImportFileError
from students.models import Role, School, Semester

from . import services
from .charts import signals_chart
from .forms import FactImportForm, ThresholdsForm
from .hooks import plan_annotations
from .importer import check_rows, read_table
from .lists import with_class
from .models import ImportKind, ImportRecord, Indicator, Level, Period, Thresholds

IMPORT_SESSION_KEY = "early_warning_import"
SAMPLES = Path(__file__).resolve().parent / "samples"


# --- Overview -------------------------------------------------------------------------------


def _level_counts(period):
    """{(grade, letter): {level: count}} for a period (one query)."""
    counts = {}
    if period is None:
        return counts
    rows = (
        with_class(Indicator.objects.filter(period=period), period.semester.school_year_id)
        .values("class_grade", "class_letter", "level")
        .annotate(pupils=Count("pk"))
        .order_by()
    )
    for row in rows:
        key = (row["class_grade"], row["class_letter"])
        counts.setdefault(key, {})[row["level"]] = row["pupils"]
    return counts


def _class_label(grade, letter):
    if grade is None:
        return _("not in a class")
    return f"{grade}.{letter}" if letter else f"{grade}."


@login_required
@require_http_methods(["GET"])
def overview(request):
    """The school's pupils by class and level in a period, with the trend since the last."""
    require_roles(request.user, *STAFF_ROLES)
    school, schools = chosen_school(
        request,
        School.objects.filter(pk__in=get_access(request.user).school_ids(*STAFF_ROLES)).order_by(
            "name"
        ),
    )
    periods = list(
        Period.objects.filter(school=school)
        .select_related("semester__school_year")
        .order_by("-end_date", "-pk")
    )
    period = next((p for p in periods if str(p.pk) == request.GET.get("period")), None)
    period = period or (periods[0] if periods else None)
    previous = (
        next((p for p in periods if p.end_date < period.start_date), None) if period else None
    )
    now, before = _level_counts(period), _level_counts(previous)
    levels = list(Level)
    rows = []
    for key in sorted(set(now) | set(before), key=lambda k: (k[0] or 99, k[1] or "")):
        cells = []
        for level in levels:
            count = now.get(key, {}).get(level, 0)
            delta = count - before.get(key, {}).get(level, 0) if previous else None
            cells.append({"count": count, "delta": delta})
        rows.append({"label": _class_label(*key), "cells": cells})
    totals = []
    for index in range(len(levels)):
        count = sum(r["cells"][index]["count"] for r in rows)
        delta = sum(r["cells"][index]["delta"] for r in rows) if previous is not None else None
        totals.append({"count": count, "delta": delta})

    try:
        min_level = max(int(request.GET.get("level", Level.WATCH)), Level.WATCH)
    except ValueError:
        min_level = Level.WATCH
    page = None
    if period is not None:
        pupils = (
            with_class(
                Indicator.objects.filter(period=period, level__gte=min_level),
                period.semester.school_year_id,
            )
            .annotate(**plan_annotations(period.semester))
            .select_related("student")
            .order_by("-level", "student__last_name", "student__first_name", "pk")
        )
        page = paginate(request, pupils)
        # The page names its pupils with their levels and reasons.
        audit.record_list(
            request,
            "early warning",
            [indicator.student_id for indicator in page.object_list],
            schools=[school.pk],
        )
    return render(
        request,
        "early_warning/overview.html",
        {
            "schools": schools,
            "school": school,
            "periods": periods,
            "period": period,
            "previous": previous,
            "levels": levels,
            "rows": rows,
            "totals": totals,
            "page": page,
            "min_level": min_level,
            "is_coordinator": can_manage_school(request.user, school.pk),
            "thresholds": Thresholds.for_school(school),
        },
    )


@login_required
@require_http_methods(["GET"])
def student_signals(request, pk):
    """One pupil's indicators over the periods, with the reasons."""
    student = get_student_or_404(request.user, pk)
    audit.record(
        request, AuditEvent.Action.VIEW_PUPIL, school=student.school, obj=student, student=student
    )
    signals = list(
        Indicator.objects.filter(student=student)
        .select_related("period__semester__school_year")
        .order_by("-period__end_date", "-period__pk")
    )
    return render(
        request,
        "early_warning/student.html",
        {
            "student": student,
            "signals": signals,
            "thresholds": Thresholds.for_school(student.school),
            "chart": signals_chart(student, signals),
        },
    )


# --- Import ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def fact_import(request):
    require_roles(request.user, Role.COORDINATOR)
    schools = managed_schools(request.user)
    form = FactImportForm(request.POST or None, request.FILES or None, schools=schools)
    check = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        semester = data["semester"]
        try:
            rows = read_table(data["file"], data["kind"])
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            check = check_rows(
                rows, kind=data["kind"], school=data["school"], school_year=semester.school_year
            )
            # The check lists the file's rows and tells which are the school's pupils.
            audit.record_list(
                request,
                "early-warning import check",
                [row.student_id for row in check.rows if row.student_id],
                schools=[data["school"].pk],
            )
            if check.is_valid:
                request.session[IMPORT_SESSION_KEY] = {
                    "school": data["school"].pk,
                    "kind": data["kind"],
                    "start": data["start_date"].isoformat(),
                    "end": data["end_date"].isoformat(),
                    "semester": semester.pk,
                    "name": data["file"].name,
                    "rows": rows,
                }
            else:
                request.session.pop(IMPORT_SESSION_KEY, None)
    return render(
        request,
        "early_warning/import.html",
        {"form": form, "check": check, "kinds": ImportKind.choices},
    )


@login_required
@require_POST
def fact_import_confirm(request):
    require_roles(request.user, Role.COORDINATOR)
    pending = request.session.get(IMPORT_SESSION_KEY)
    school = semester = None
    if pending:
        school = managed_schools(request.user).filter(pk=pending["school"]).first()
        semester = (
            Semester.objects.filter(pk=pending["semester"]).select_related("school_year").first()
        )
    if school is None or semester is None:
        request.session.pop(IMPORT_SESSION_KEY, None)
        messages.error(request, _("There is no checked file to import: upload it again."))
        return redirect("ew_import")
    # Check again: the school's pupils may have changed since the preview.
    check = check_rows(
        [tuple(r) for r in pending["rows"]],
        kind=pending["kind"],
        school=school,
        school_year=semester.school_year,
    )
    request.session.pop(IMPORT_SESSION_KEY, None)
    if not check.is_valid:
        messages.error(request, _("The pupils changed since the check: upload the file again."))
        return redirect("ew_import")
    record = services.import_facts(
        check=check,
        school=school,
        period_dates=(date.fromisoformat(pending["start"]), date.fromisoformat(pending["end"])),
        semester=semester,
        file_name=pending["name"],
        by=request.user,
    )
    messages.success(
        request,
        ngettext(
            "Imported %(rows)d row of %(kind)s for %(period)s; the levels were recomputed.",
            "Imported %(rows)d rows of %(kind)s for %(period)s; the levels were recomputed.",
            record.row_count,
        )
        % {"rows": record.row_count, "kind": record.get_kind_display(), "period": record.period},
    )
    return redirect("ew_import_list")


@login_required
@require_http_methods(["GET"])
def import_list(request):
    require_roles(request.user, Role.COORDINATOR)
    imports = ImportRecord.objects.filter(school__in=managed_schools(request.user)).select_related(
        "school", "period", "imported_by"
    )
    return render(request, "early_warning/import_list.html", {"page": paginate(request, imports)})


@login_required
@require_http_methods(["GET"])
def sample(request, kind):
    """A sample file with the expected columns (made-up pupils), a template to fill in."""
    require_roles(request.user, Role.COORDINATOR)
    if kind not in ImportKind.values:
        raise Http404
    return FileResponse(
        (SAMPLES / f"{kind}.csv").open("rb"),
        as_attachment=True,
        filename=f"{kind}.csv",
        content_type="text/csv; charset=utf-8",
    )


# --- Thresholds -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def thresholds_edit(request):
    require_roles(request.user, Role.COORDINATOR)
    school, schools = chosen_school(request, managed_schools(request.user).order_by("name"))
    form = ThresholdsForm(request.POST or None, instance=Thresholds.for_school(school))
    if request.method == "POST" and form.is_valid():
        services.save_thresholds(thresholds=form.save(commit=False), by=request.user)
        messages.success(request, _("The thresholds were saved and the levels recomputed."))
        return redirect(f"{request.path}?school={school.pk}")
    return render(
        request,
        "early_warning/thresholds.html",
        {"form": form, "school": school, "schools": schools},
    )
