"""The pupil list's query and its export (CSV and XLSX from one row generator)."""

from django.db.models import OuterRef, Prefetch, Subquery
from django.utils.translation import gettext as _

from iap_portal.exports import ExportSpec, choice_labels, register_export

from .access import current_school_year, export_schools, visible_class_groups, visible_students
from .filters import StudentFilter
from .models import ClassGroup, Enrollment, Student
from .personas_kods import mask_personas_kods


def student_rows(students, year):
    """Export rows from plain values, not model instances: building the models and their
    prefetched classes was most of a large school's export (bench/README.md)."""
    yield [
        _("Surname"),
        _("Name"),
        _("Class"),
        _("Personal identity code"),
        _("Birth date"),
        _("Status"),
    ]
    statuses = choice_labels(Student.Status.choices)
    # This school year's class of each pupil, as the list shows it: looked up per pupil through
    # the (pupil, year) unique index: a join let PostgreSQL hash every enrollment of the year
    # in the country for one school's pupils (bench/README.md).
    current_class = Enrollment.objects.filter(student=OuterRef("pk"), school_year=year).values(
        "class_group_id"
    )[:1]
    pupils = list(
        students.prefetch_related(None)
        .annotate(current_class=Subquery(current_class))
        .values_list(
            "last_name", "first_name", "personas_kods", "birth_date", "status", "current_class"
        )
    )
    classes = {
        pk: f"{grade}.{letter}" if letter else f"{grade}."
        for pk, grade, letter in ClassGroup.objects.filter(
            pk__in={pupil[-1] for pupil in pupils if pupil[-1]}
        ).values_list("pk", "grade", "letter")
    }
    for last_name, first_name, code, born, status, class_id in pupils:
        yield [
            last_name,
            first_name,
            classes.get(class_id, ""),
            mask_personas_kods(code),
            born,
            statuses.get(status, status),
        ]


def pupils_query(user, params):
    """The pupils this user sees, with this year's class, filtered by the request's filters."""
    year = current_school_year(user)
    class_groups = visible_class_groups(user).filter(school_year=year)
    students = (
        visible_students(user)
        .select_related("school")
        .prefetch_related(
            Prefetch(
                "enrollments",
                queryset=Enrollment.objects.filter(school_year=year).select_related("class_group"),
                to_attr="current_enrollments",
            )
        )
        .order_by("last_name", "first_name", "pk")
    )
    student_filter = StudentFilter(
        params or None,
        queryset=students,
        class_groups=class_groups.order_by("grade", "letter"),
        school_year=year,
    )
    qs = student_filter.qs if student_filter.is_bound else students
    if student_filter.is_bound and not student_filter.is_valid():
        qs = students.none()
    return student_filter, qs, year


@register_export("pupils")
def pupils_export(user, params):
    _filter, qs, year = pupils_query(user, params)
    return ExportSpec(
        queryset=qs,
        rows=lambda: student_rows(qs, year),
        filename="izglitojamie",
        title=_("Pupils"),
        schools=export_schools(user, qs),
    )
