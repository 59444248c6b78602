from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from iap_portal.admin import PupilDataAdminMixin

from .models import (
    ClassGroup,
    Enrollment,
    Guardian,
    Membership,
    Municipality,
    School,
    SchoolYear,
    Semester,
    SpecialistType,
    Student,
)
from .search import search_students


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "registration_number",
        "municipality",
        "allow_self_approval",
        "claims_fall_back_to_coordinator",
        "evaluation_window_days",
    ]
    list_filter = ["municipality"]
    search_fields = ["name", "registration_number"]
    list_select_related = ["municipality"]


class SemesterInline(admin.TabularInline):
    model = Semester
    extra = 0
    max_num = 2


@admin.register(SchoolYear)
class SchoolYearAdmin(admin.ModelAdmin):
    list_display = ["name", "start_year"]
    inlines = [SemesterInline]


@admin.register(Semester)
class SemesterAdmin(admin.ModelAdmin):
    list_display = ["__str__", "start_date", "end_date"]
    list_select_related = ["school_year"]


@admin.register(ClassGroup)
class ClassGroupAdmin(admin.ModelAdmin):
    list_display = ["label", "school", "school_year"]
    list_filter = ["school_year", "grade"]
    search_fields = ["school__name"]
    list_select_related = ["school", "school_year"]
    autocomplete_fields = ["school"]
    filter_horizontal = ["class_teachers"]


class GuardianInline(admin.TabularInline):
    model = Guardian
    extra = 0


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0
    autocomplete_fields = ["class_group"]


@admin.register(Student)
class StudentAdmin(PupilDataAdminMixin, SimpleHistoryAdmin):
    list_display = ["last_name", "first_name", "school", "masked_personas_kods", "status"]
    list_filter = ["status", "gender", "school__municipality"]
    search_fields = ["last_name", "first_name"]
    list_select_related = ["school"]
    autocomplete_fields = ["school"]
    inlines = [GuardianInline, EnrollmentInline]

    def get_search_results(self, request, queryset, search_term):
        # As everywhere pupils are searched: diacritics aside (students.search).
        return search_students(queryset, search_term), False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["student", "class_group", "school_year"]
    list_select_related = ["student", "class_group", "school_year"]
    autocomplete_fields = ["student", "class_group"]


@admin.register(SpecialistType)
class SpecialistTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "is_active"]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "role", "school", "municipality", "specialist_type"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__last_name", "school__name"]
    list_select_related = ["user", "school", "municipality", "specialist_type"]
    autocomplete_fields = ["user", "school", "municipality"]
