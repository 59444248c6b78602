"""Every URL of the URLconf × every role of the cast, for GET and POST.

The list of URLs is generated from the URLconf: a new URL without a row in EXPECTED fails
``test_it_covers_every_url``, so no page can skip the matrix.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import CAST_ROLES

OK = "ok"  # 2xx, or a redirect that is not to the login page
LOGIN = "login"  # redirect to the login page
ROLES = [*CAST_ROLES, "anonymous"]
SCHOOL_STAFF = ["class_teacher", "other_teacher", "specialist", "social_pedagogue"]


def only(allowed, otherwise, **overrides):
    table = {role: (OK if role in allowed else otherwise) for role in CAST_ROLES}
    table["anonymous"] = LOGIN
    table.update(overrides)
    return table


PUBLIC = dict.fromkeys(ROLES, OK)
COORDINATORS = ["coordinator", "other_coordinator"]
SCHOOL_ROLES = [*SCHOOL_STAFF, *COORDINATORS]

PLAN_PREPARERS = ["class_teacher", "social_pedagogue", "coordinator"]
PLAN_VIEWERS = ["class_teacher", "social_pedagogue", "specialist"]
LOCKED_403 = dict.fromkeys([*PLAN_PREPARERS, "specialist"], 403)
VISIBLE_405 = dict.fromkeys(CAST_ROLES, 405)
ACTION_GET = {**dict.fromkeys(CAST_ROLES, 405), "anonymous": LOGIN}
CLAIM_HANDLERS = ["class_teacher", "other_teacher", "social_pedagogue", *COORDINATORS]
PAYEE_KEEPERS = ["social_pedagogue", "coordinator"]

# url name -> {method -> {role -> expected}}
EXPECTED = {
    "home": {"GET": only(CAST_ROLES, 403), "POST": only(CAST_ROLES, 403)},
    "audit_log": {m: only(COORDINATORS, 403) for m in ("GET", "POST")},
    # The help pages: every role's, for everyone signed in.
    "help": {"GET": only(CAST_ROLES, 403), "POST": ACTION_GET},
    "help_role": {"GET": only(CAST_ROLES, 403), "POST": ACTION_GET},
    "logout_everywhere": {"GET": only(CAST_ROLES, 403), "POST": dict.fromkeys(ROLES, LOGIN)},
    "login": {"GET": PUBLIC, "POST": PUBLIC},
    # Two-factor sign-in: everyone's own settings (the cast has no authenticator yet).
    "two_factor": {"GET": only(CAST_ROLES, 403), "POST": ACTION_GET},
    "two_factor_setup": {m: only(CAST_ROLES, 403) for m in ("GET", "POST")},
    "two_factor_qr": {"GET": only([], 404), "POST": ACTION_GET},
    "two_factor_verify": {m: only(CAST_ROLES, 403) for m in ("GET", "POST")},
    "two_factor_backup_codes": {"GET": ACTION_GET, "POST": only(CAST_ROLES, 403)},
    "two_factor_disable": {m: only(CAST_ROLES, 403) for m in ("GET", "POST")},
    "two_factor_reset": {
        m: only(["coordinator"], 403, other_coordinator=404) for m in ("GET", "POST")
    },
    "logout": {"GET": dict.fromkeys(ROLES, 405), "POST": dict.fromkeys(ROLES, LOGIN)},
    "password_change": {"GET": only(CAST_ROLES, 403), "POST": only(CAST_ROLES, 403)},
    "password_change_done": {"GET": only(CAST_ROLES, 403), "POST": only([], 405)},
    "password_reset": {"GET": PUBLIC, "POST": PUBLIC},
    "password_reset_done": {"GET": PUBLIC, "POST": dict.fromkeys(ROLES, 405)},
    "password_reset_confirm": {"GET": PUBLIC, "POST": PUBLIC},
    "password_reset_complete": {"GET": PUBLIC, "POST": dict.fromkeys(ROLES, 405)},
    "set_language": {"GET": PUBLIC, "POST": PUBLIC},
    # Notifications: everyone's own. The one marked read is alice's.
    "notification_list": {"GET": only(CAST_ROLES, 403), "POST": ACTION_GET},
    "notification_bell": {"GET": only(CAST_ROLES, 403), "POST": ACTION_GET},
    "notification_read": {"GET": ACTION_GET, "POST": only(["class_teacher"], 404)},
    "notification_read_all": {"GET": ACTION_GET, "POST": only(CAST_ROLES, 403)},
    "notification_settings": {m: only(CAST_ROLES, 403) for m in ("GET", "POST")},
    "student_list": {"GET": only(SCHOOL_ROLES, 403), "POST": only(SCHOOL_ROLES, 403)},
    "student_create": {"GET": only(COORDINATORS, 403), "POST": only(COORDINATORS, 403)},
    "student_import": {"GET": only(COORDINATORS, 403), "POST": only(COORDINATORS, 403)},
    "student_import_confirm": {
        "GET": {**dict.fromkeys(CAST_ROLES, 405), "anonymous": LOGIN},
        "POST": only(COORDINATORS, 403),
    },
    # The cast's pupil is in alice's class 7.a of school A.
    "student_detail": {
        m: only(["class_teacher", "social_pedagogue", "coordinator"], 404) for m in ("GET", "POST")
    },
    "student_data_export": {
        "GET": only(["coordinator"], 404, class_teacher=403, social_pedagogue=403),
        "POST": {**dict.fromkeys(CAST_ROLES, 405), "anonymous": LOGIN},
    },
    "student_update": {
        m: only(["coordinator"], 404, class_teacher=403, social_pedagogue=403)
        for m in ("GET", "POST")
    },
    "class_list": {"GET": only(COORDINATORS, 403), "POST": only(COORDINATORS, 403)},
    "class_create": {"GET": only(COORDINATORS, 403), "POST": only(COORDINATORS, 403)},
    "class_update": {
        m: only(["coordinator"], 404, class_teacher=403, social_pedagogue=403)
        for m in ("GET", "POST")
    },
    "staff_list": {"GET": only(COORDINATORS, 403), "POST": only(COORDINATORS, 403)},
    "staff_create": {"GET": only(COORDINATORS, 403), "POST": only(COORDINATORS, 403)},
    "staff_remove": {m: only(["coordinator"], 403, other_coordinator=404) for m in ("GET", "POST")},
    "staff_invitation_withdraw": {
        "GET": ACTION_GET,
        "POST": only(["coordinator"], 403, other_coordinator=404),
    },
    # An invitation to alice: only she, signed in, sees it.
    "invitation": {m: only(["class_teacher"], 404) for m in ("GET", "POST")},
    # The calendar is national: IKVD reads it, every school's coordinator keeps it.
    "calendar": {m: only([*COORDINATORS, "agency"], 403) for m in ("GET", "POST")},
    "calendar_create": {m: only(COORDINATORS, 403) for m in ("GET", "POST")},
    "calendar_update": {m: only(COORDINATORS, 403) for m in ("GET", "POST")},
    # Plans: the cast's pupil has a plan in progress, prepared by alice, with a consultation
    # measure given by the specialist.
    "plan_list": {m: only(SCHOOL_ROLES, 403) for m in ("GET", "POST")},
    "plan_queue": {m: only(COORDINATORS, 403) for m in ("GET", "POST")},
    "plan_create": {m: only(PLAN_PREPARERS, 404, specialist=403) for m in ("GET", "POST")},
    "plan_detail": {m: only([*PLAN_PREPARERS, "specialist"], 404) for m in ("GET", "POST")},
    "plan_update": {m: only(PLAN_PREPARERS, 404, specialist=403) for m in ("GET", "POST")},
    # The plan is in progress, so it is locked: no rows can be added.
    "plan_risk_row": {"GET": only([], 404, **LOCKED_403), "POST": only([], 404, **VISIBLE_405)},
    "plan_measure_row": {"GET": only([], 404, **LOCKED_403), "POST": only([], 404, **VISIBLE_405)},
    "plan_submit": {"GET": ACTION_GET, "POST": only(PLAN_PREPARERS, 404, specialist=403)},
    "plan_revise": {"GET": ACTION_GET, "POST": only(PLAN_PREPARERS, 404, specialist=403)},
    "plan_resume": {"GET": ACTION_GET, "POST": only(PLAN_PREPARERS, 404, specialist=403)},
    "plan_approve": {
        "GET": ACTION_GET,
        "POST": only(["coordinator"], 404, **dict.fromkeys(PLAN_VIEWERS, 403)),
    },
    "plan_return": {
        m: only(["coordinator"], 404, **dict.fromkeys(PLAN_VIEWERS, 403)) for m in ("GET", "POST")
    },
    "plan_suspend": {m: only(PLAN_PREPARERS, 404, specialist=403) for m in ("GET", "POST")},
    "plan_delete": {m: only(PLAN_PREPARERS, 404, specialist=403) for m in ("GET", "POST")},
    "plan_evaluate": {m: only(PLAN_PREPARERS, 404, specialist=403) for m in ("GET", "POST")},
    "plan_allow_early_evaluation": {
        m: only(["coordinator"], 404, **dict.fromkeys(PLAN_VIEWERS, 403)) for m in ("GET", "POST")
    },
    # Approvals above the school: a holiday plan of the pupil waits at the municipality of
    # school A (route school → municipality → IKVD). IKVD decides only at its own level.
    "approval_queue": {m: only(["municipality", "agency"], 403) for m in ("GET", "POST")},
    "approval_approve": {"GET": ACTION_GET, "POST": only(["municipality", "agency"], 403)},
    "approval_overview": {m: only(["municipality", "agency"], 403) for m in ("GET", "POST")},
    "approval_detail": {m: only(["municipality"], 403, agency=404) for m in ("GET", "POST")},
    "approval_return": {m: only(["municipality"], 403, agency=404) for m in ("GET", "POST")},
    # IKVD sets the routes, per municipality (school A's here) and per school.
    "approval_routes": {m: only(["agency"], 403) for m in ("GET", "POST")},
    "approval_route_edit": {m: only(["agency"], 403) for m in ("GET", "POST")},
    "consultation_list": {m: only(SCHOOL_ROLES, 403) for m in ("GET", "POST")},
    "consultation_create": {
        m: only(["coordinator", "specialist"], 404, class_teacher=403, social_pedagogue=403)
        for m in ("GET", "POST")
    },
    # The national catalogues are kept by IKVD. Coordinators see the risk catalogue and add
    # their school's own factors; a national factor is read-only to them (the row below is one;
    # a school's own factor: plans/tests/test_catalogue.py).
    "compensation_ceilings": {m: only(COORDINATORS, 403) for m in ("GET", "POST")},
    "risk_factor_list": {m: only([*COORDINATORS, "agency"], 403) for m in ("GET", "POST")},
    "risk_factor_create": {m: only([*COORDINATORS, "agency"], 403) for m in ("GET", "POST")},
    "risk_factor_update": {m: only(["agency"], 403) for m in ("GET", "POST")},
    "specialist_type_list": {m: only(["agency"], 403) for m in ("GET", "POST")},
    # Youth NGO projects: the municipality keeps the register, school staff read it.
    "ngo_project_list": {
        m: only([*SCHOOL_ROLES, "municipality", "agency"], 403) for m in ("GET", "POST")
    },
    "ngo_project_create": {m: only(["municipality", "agency"], 403) for m in ("GET", "POST")},
    "ngo_project_update": {m: only(["municipality", "agency"], 403) for m in ("GET", "POST")},
    "specialist_type_create": {m: only(["agency"], 403) for m in ("GET", "POST")},
    "specialist_type_update": {m: only(["agency"], 403) for m in ("GET", "POST")},
    # Claims: a submitted transport claim of the cast's pupil, filed by alice. Specialists
    # handle no money: they see no claims.
    "claim_list": {m: only(CLAIM_HANDLERS, 403) for m in ("GET", "POST")},
    "claim_queue": {m: only(["social_pedagogue"], 403) for m in ("GET", "POST")},
    # The school's overview of its granted claims; money is paid through payment batches.
    "claim_payments": {"GET": only(COORDINATORS, 403), "POST": ACTION_GET},
    "claim_create": {m: only(PLAN_PREPARERS, 404, specialist=403) for m in ("GET", "POST")},
    # One more empty expense line of the claim form (htmx).
    "claim_line_row": {"GET": only(PLAN_PREPARERS, 404, specialist=403), "POST": ACTION_GET},
    "claim_detail": {m: only(PLAN_PREPARERS, 404) for m in ("GET", "POST")},
    "claim_update": {m: only(PLAN_PREPARERS, 404) for m in ("GET", "POST")},
    "claim_submit": {"GET": ACTION_GET, "POST": only(PLAN_PREPARERS, 404)},
    "claim_approve": {
        "GET": ACTION_GET,
        "POST": only(["social_pedagogue"], 404, class_teacher=403, coordinator=403),
    },
    "claim_reject": {
        m: only(["social_pedagogue"], 404, class_teacher=403, coordinator=403)
        for m in ("GET", "POST")
    },
    "claim_return": {
        m: only(["social_pedagogue"], 404, class_teacher=403, coordinator=403)
        for m in ("GET", "POST")
    },
    "receipt_view": {"GET": only(PLAN_PREPARERS, 404), "POST": ACTION_GET},
    # Payees: the school's coordinator and social pedagogue keep them (a guardian's payee of
    # the cast's pupil, school A's caterer); the class teacher sees the pupil, not the payees.
    "payee_guardian_create": {
        m: only(PAYEE_KEEPERS, 404, class_teacher=403) for m in ("GET", "POST")
    },
    "payee_pupil_create": {m: only(PAYEE_KEEPERS, 404, class_teacher=403) for m in ("GET", "POST")},
    "payee_organisation_list": {
        "GET": only([*PAYEE_KEEPERS, "other_coordinator"], 403),
        "POST": ACTION_GET,
    },
    "payee_organisation_create": {
        m: only([*PAYEE_KEEPERS, "other_coordinator"], 403) for m in ("GET", "POST")
    },
    "payee_detail": {"GET": only(PAYEE_KEEPERS, 404), "POST": ACTION_GET},
    "payee_update": {m: only(PAYEE_KEEPERS, 404) for m in ("GET", "POST")},
    "payee_deactivate": {m: only(PAYEE_KEEPERS, 404) for m in ("GET", "POST")},
    "payee_reactivate": {"GET": ACTION_GET, "POST": only(PAYEE_KEEPERS, 404)},
    "claim_payee_choose": {"GET": ACTION_GET, "POST": only(PAYEE_KEEPERS, 404, class_teacher=403)},
    "receipt_delete": {"GET": ACTION_GET, "POST": only(PLAN_PREPARERS, 404)},
    # Payment batches: a sent batch of school A (paid by its municipality) holding an
    # approved claim of the pupil. The coordinator builds and sends, the municipality's
    # accountant pays; nobody else sees a batch.
    "batch_list": {"GET": only(COORDINATORS, 403), "POST": ACTION_GET},
    "batch_create": {"GET": ACTION_GET, "POST": only(COORDINATORS, 403)},
    "batch_detail": {
        "GET": only(["coordinator"], 404, municipal_accountant=403),
        "POST": ACTION_GET,
    },
    "batch_add": {"GET": ACTION_GET, "POST": only(["coordinator"], 404, municipal_accountant=403)},
    "batch_remove": {
        "GET": ACTION_GET,
        "POST": only(["coordinator"], 404, municipal_accountant=403),
    },
    "batch_send": {
        m: only(["coordinator"], 404, municipal_accountant=403) for m in ("GET", "POST")
    },
    "batch_unbatched": {
        "GET": only([*COORDINATORS, "municipal_accountant"], 403),
        "POST": ACTION_GET,
    },
    "batch_incoming": {"GET": only(["municipal_accountant"], 403), "POST": ACTION_GET},
    "batch_payment": {
        "GET": only(["municipal_accountant"], 404, coordinator=403),
        "POST": ACTION_GET,
    },
    "batch_record": {
        "GET": ACTION_GET,
        "POST": only(["municipal_accountant"], 404, coordinator=403),
    },
    "batch_record_all": {
        "GET": ACTION_GET,
        "POST": only(["municipal_accountant"], 404, coordinator=403),
    },
    "batch_download": {
        "GET": only(["municipal_accountant"], 404, coordinator=403),
        "POST": ACTION_GET,
    },
    # Reports: aggregates for the school's staff above the class, and for the levels above.
    "participation_report": {
        "GET": only([*COORDINATORS, "social_pedagogue", "municipality", "agency"], 403),
        "POST": ACTION_GET,
    },
    "esf_indicators": {
        "GET": only([*COORDINATORS, "social_pedagogue", "municipality", "agency"], 403),
        "POST": ACTION_GET,
    },
    # "Refresh now" of the kept figures: only who opens an aggregate scope.
    "participation_refresh": {"GET": ACTION_GET, "POST": only(["municipality", "agency"], 403)},
    "plan_pdf": {"GET": only([*PLAN_PREPARERS, "specialist"], 404), "POST": ACTION_GET},
    # Early warning: the school's staff see the overview, coordinators import and set the
    # thresholds; one pupil's signals follow the pupil's page. The levels above see only the
    # report's aggregates.
    "ew_overview": {"GET": only([*COORDINATORS, "social_pedagogue"], 403), "POST": ACTION_GET},
    "ew_student": {
        "GET": only(["class_teacher", "social_pedagogue", "coordinator"], 404),
        "POST": ACTION_GET,
    },
    "ew_import": {m: only(COORDINATORS, 403) for m in ("GET", "POST")},
    "ew_import_confirm": {"GET": ACTION_GET, "POST": only(COORDINATORS, 403)},
    "ew_import_list": {"GET": only(COORDINATORS, 403), "POST": ACTION_GET},
    "ew_sample": {"GET": only(COORDINATORS, 403), "POST": ACTION_GET},
    "ew_thresholds": {m: only(COORDINATORS, 403) for m in ("GET", "POST")},
    # Budgets: amounts, no pupil. The school's staff who handle money see their school's
    # budget, the levels above every school's of their scope and set the allocations.
    "school_budget": {
        "GET": only([*COORDINATORS, "social_pedagogue", "municipality", "agency"], 403),
        "POST": ACTION_GET,
    },
    "budget_table": {"GET": only(["municipality", "agency"], 403), "POST": ACTION_GET},
    "allocation_list": {m: only(["municipality", "agency"], 403) for m in ("GET", "POST")},
    "bundle_list": {m: only(COORDINATORS, 403) for m in ("GET", "POST")},
    # A queued export belongs to the user who asked for it (the coordinator here).
    "export_detail": {"GET": only(["coordinator"], 404), "POST": ACTION_GET},
    "export_download": {"GET": only(["coordinator"], 404), "POST": ACTION_GET},
    "bundle_detail": {"GET": only(["coordinator"], 403, other_coordinator=404), "POST": ACTION_GET},
    "bundle_download": {
        "GET": only(["coordinator"], 403, other_coordinator=404),
        "POST": ACTION_GET,
    },
}


def app_url_names():
    """Named URLs of the project, except the Django admin (tested on its own below)."""
    names = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def cast_plan(cast):
    """The pupil's plan in progress (made once: pages built one after another share it)."""
    from django.utils import timezone

    from plans.models import PlanStatus, SupportPlan
    from plans.tests.factories import ready_plan

    made = SupportPlan.objects.filter(student=cast.student, preparer=cast.class_teacher).first()
    if made is not None:
        return made
    return ready_plan(
        student=cast.student,
        preparer=cast.class_teacher,
        responsible=cast.specialist,
        status=PlanStatus.IN_PROGRESS,
        first_approved_at=timezone.now(),
    )


def cast_waiting_plan(cast):
    """A holiday plan of the pupil, approved by the school and waiting at its municipality
    (made once; prepared by the social pedagogue, so ``cast_plan`` does not take it)."""
    from django.utils import timezone

    from plans.models import SupportPlan
    from plans.tests.factories import ready_plan
    from students.models import ApprovalLevel, ApprovalRoute

    made = SupportPlan.objects.filter(student=cast.student, kind="holiday").first()
    if made is not None:
        return made
    cast.school.approval_route = ApprovalRoute.MUNICIPALITY_AGENCY
    cast.school.save(update_fields=["approval_route"])
    return ready_plan(
        student=cast.student,
        preparer=cast.social_pedagogue,
        responsible=cast.specialist,
        kind="holiday",
        status="submitted",
        submitted_at=timezone.now(),
        approval_level=ApprovalLevel.MUNICIPALITY,
        level_since=timezone.now(),
        school_approved_by=cast.coordinator,
        school_approved_at=timezone.now(),
    )


def cast_export(cast):
    from reports.list_exports import build_export
    from reports.models import ExportJob

    job = ExportJob.objects.create(requested_by=cast.coordinator, kind="pupils", format="csv")
    build_export.enqueue(job_id=str(job.public_id))  # runs at once in tests
    return job


def cast_bundle(cast):
    from reports.models import PlanBundle
    from reports.tasks import build_bundle
    from students.models import Semester

    cast_plan(cast)
    bundle = PlanBundle.objects.create(
        school=cast.school, semester=Semester.objects.current(), requested_by=cast.coordinator
    )
    build_bundle.enqueue(bundle_id=str(bundle.public_id))  # runs at once in tests
    return bundle


def cast_invitation(cast):
    from datetime import timedelta

    from django.utils import timezone

    from students.models import Role, StaffInvitation

    return StaffInvitation.objects.create(
        school=cast.school,
        email=cast.class_teacher.email,
        first_name="Alice",
        last_name="A",
        role=Role.SOCIAL_PEDAGOGUE,
        invited_by=cast.coordinator,
        expires_at=timezone.now() + timedelta(days=14),
    )


def cast_claim(cast):
    """A submitted claim on the pupil's plan (made once; the first claim of the plan)."""
    from compensations.models import CompensationClaim
    from compensations.tests.factories import submitted_claim

    plan = cast_plan(cast)
    return CompensationClaim.objects.filter(plan=plan).order_by("pk").first() or submitted_claim(
        plan=plan, by=cast.class_teacher
    )


def cast_payee(cast):
    """A guardian's payee of the pupil (made once)."""
    from payments.models import Payee
    from students.models import Guardian

    made = Payee.objects.filter(student=cast.student).first()
    if made is not None:
        return made
    guardian = Guardian.objects.create(student=cast.student, name="Pēteris Bērziņš")
    return Payee.objects.create(
        school=cast.school,
        kind=Payee.Kind.GUARDIAN,
        student=cast.student,
        guardian=guardian,
        name=guardian.name,
        iban="LV80BANK0000435195001",
        created_by=cast.coordinator,
    )


def cast_batch(cast):
    """A sent payment batch of school A holding a second claim of the pupil, approved by the
    social pedagogue and paid to the pupil's guardian (made once)."""
    from compensations import services as claim_services
    from compensations.models import CompensationClaim
    from compensations.tests.factories import submitted_claim
    from payments.models import PaymentBatch
    from payments.tests.batch_factories import sent_batch

    made = PaymentBatch.objects.filter(school=cast.school).first()
    if made is not None:
        return made
    cast_claim(cast)
    claim = submitted_claim(plan=cast_plan(cast), by=cast.class_teacher, amount="12.50")
    claim_services.approve_claim(claim=claim, by=cast.social_pedagogue)
    return sent_batch([CompensationClaim.objects.get(pk=claim.pk)], builder=cast.coordinator)


def url_for(name, cast):
    kwargs = {}
    if name == "plan_create":
        cast_plan(cast)  # so that the specialist sees the pupil
        kwargs = {"student_pk": cast.student.pk}
    elif name in {"batch_remove", "batch_record"}:
        batch = cast_batch(cast)
        kwargs = {"pk": batch.pk, "line_pk": batch.lines.get().pk}
    elif name == "batch_download":
        kwargs = {"pk": cast_batch(cast).pk, "fmt": "xml"}
    elif name.startswith("batch_") and name not in {
        "batch_list",
        "batch_create",
        "batch_unbatched",
        "batch_incoming",
    }:
        kwargs = {"pk": cast_batch(cast).pk}
    elif name in {"claim_create", "claim_line_row"}:
        kwargs = {"measure_pk": cast_claim(cast).measure_id}
    elif name == "claim_payee_choose":
        kwargs = {"claim_pk": cast_claim(cast).pk}
    elif name in {"payee_guardian_create", "payee_pupil_create"}:
        cast_payee(cast)  # the pupil has a guardian
        kwargs = {"student_pk": cast.student.pk}
    elif name in {"payee_detail", "payee_update", "payee_deactivate", "payee_reactivate"}:
        kwargs = {"pk": cast_payee(cast).pk}
    elif name.startswith("claim_") and name not in {"claim_list", "claim_queue", "claim_payments"}:
        kwargs = {"pk": cast_claim(cast).pk}
    elif name.startswith("receipt_"):
        kwargs = {"public_id": cast_claim(cast).receipts.get().public_id}
    elif name in {"export_detail", "export_download"}:
        kwargs = {"public_id": cast_export(cast).public_id}
    elif name == "bundle_download":
        kwargs = {"public_id": cast_bundle(cast).public_id, "kind": "pdf"}
    elif name == "bundle_detail":
        kwargs = {"public_id": cast_bundle(cast).public_id}
    elif name in {"approval_detail", "approval_return"}:
        kwargs = {"pk": cast_waiting_plan(cast).pk}
    elif name == "approval_route_edit":
        kwargs = {"pk": cast.school.municipality_id}
    elif name == "plan_pdf":
        kwargs = {"public_id": cast_plan(cast).public_id}
    elif name.startswith("plan_") and name not in {"plan_list", "plan_queue"}:
        kwargs = {"pk": cast_plan(cast).pk}
    elif name == "consultation_create":
        kwargs = {"measure_pk": cast_plan(cast).measures.filter(measure_type="consultation")[0].pk}
    elif name == "risk_factor_update":
        from plans.models import RiskFactor

        kwargs = {"pk": RiskFactor.objects.national().first().pk}
    elif name == "specialist_type_update":
        from students.models import SpecialistType

        kwargs = {"pk": SpecialistType.objects.first().pk}
    elif name == "ngo_project_update":
        from plans.tests.factories import ngo_project

        kwargs = {"pk": ngo_project(municipality=cast.school.municipality).pk}
    elif name == "ew_student":
        kwargs = {"pk": cast.student.pk}
    elif name == "ew_sample":
        kwargs = {"kind": "absences"}
    elif name == "student_data_export":
        kwargs = {"public_id": cast.student.public_id}
    elif name in {"student_detail", "student_update"}:
        kwargs = {"pk": cast.student.pk}
    elif name == "class_update":
        kwargs = {"pk": cast.class_group.pk}
    elif name == "calendar_update":
        kwargs = {"pk": cast.year.pk}
    elif name in {"staff_remove", "two_factor_reset"}:
        kwargs = {"pk": cast.class_teacher.memberships.get().pk}
    elif name in {"staff_invitation_withdraw", "invitation"}:
        invitation = cast_invitation(cast)
        kwargs = (
            {"pk": invitation.pk}
            if name == "staff_invitation_withdraw"
            else {"token": invitation.token}
        )
    elif name == "help_role":
        kwargs = {"role": "class_teacher"}
    elif name == "password_reset_confirm":
        kwargs = {"uidb64": "MQ", "token": "set-password"}
    elif name == "notification_read":
        kwargs = {"pk": cast_notification(cast).pk}
    return reverse(name, kwargs=kwargs)


def cast_notification(cast):
    """A notification of alice's (made once)."""
    from notifications.models import Notification

    return Notification.objects.filter(recipient=cast.class_teacher).first() or (
        Notification.objects.create(
            recipient=cast.class_teacher,
            kind="plan_approved",
            params={"code": "IAP-1"},
            url="/plans/",
            item="plan:0",
            mail_state="none",
        )
    )


def outcome(response):
    code = response.status_code
    if code in (301, 302) and "/accounts/login/" in response["Location"]:
        return LOGIN
    if code < 400:
        return OK
    return code


def test_it_covers_every_url():
    assert app_url_names() == set(EXPECTED), "every URL needs its row in the permission matrix"


CASES = [
    (name, method, role)
    for name in sorted(EXPECTED)
    for method in ("GET", "POST")
    for role in ROLES
]


@pytest.mark.parametrize(("name", "method", "role"), CASES)
def test_it_answers_each_role_as_expected(client, cast, name, method, role):
    if role != "anonymous":
        client.force_login(cast.users[role])
    url = url_for(name, cast)
    response = client.get(url) if method == "GET" else client.post(url, {})
    assert outcome(response) == EXPECTED[name][method][role], (name, method, role)
    if role != "anonymous" and outcome(response) != LOGIN:
        # Whatever a signed-in user gets (a page, a file, a refusal) stays out of the caches
        # (logging out ends in the login page, which shows nothing of anybody).
        assert "no-store" in response.get("Cache-Control", ""), (name, method, role)
        assert "private" in response["Cache-Control"], (name, method, role)


@pytest.mark.parametrize("role", CAST_ROLES)
def test_it_keeps_every_role_out_of_the_admin(client, cast, role):
    client.force_login(cast.users[role])
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- The matrix after time moves on -----------------------------------------------------------

PUPIL_PAGES = sorted(
    name
    for name in EXPECTED
    if name.startswith(("student_detail", "student_update", "student_data", "plan_", "claim_"))
    or name.startswith(("receipt_", "consultation_create"))
    if name not in {"plan_list", "plan_queue", "claim_list", "claim_queue", "claim_payments"}
)


def move_class_to_a_new_teacher(cast):
    """The new school year: 7.a has another class teacher; alice taught the pupil last year."""
    from students.tests.factories import ClassGroupFactory, EnrollmentFactory

    cast.class_group.class_teachers.set([cast.other_teacher])
    last_years = ClassGroupFactory(school=cast.school, school_year=cast.last_year, grade=6)
    last_years.class_teachers.add(cast.class_teacher)
    EnrollmentFactory(student=cast.student, class_group=last_years)


def end_the_specialists_measures(cast):
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from plans.models import SupportMeasure

    ended = timezone.localdate() - timedelta(days=settings.IAP_SPECIALIST_GRACE_DAYS + 1)
    SupportMeasure.objects.filter(responsible=cast.specialist).update(
        start_date=ended - timedelta(days=30), end_date=ended
    )


@pytest.mark.parametrize(
    ("role", "change"),
    [("class_teacher", move_class_to_a_new_teacher), ("specialist", end_the_specialists_measures)],
)
@pytest.mark.parametrize("name", PUPIL_PAGES)
def test_access_ends_with_the_class_or_the_measure(client, cast, name, role, change):
    url = url_for(name, cast)
    change(cast)
    client.force_login(cast.users[role])
    for method in ("GET", "POST"):
        response = client.get(url) if method == "GET" else client.post(url, {})
        if EXPECTED[name][method][role] == OK:
            assert response.status_code == 404, (name, method, role)
        else:
            assert outcome(response) in (404, 403, 405), (name, method, role)
