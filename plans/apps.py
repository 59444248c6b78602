from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Individual support plans")

    def ready(self):
        # Imported here, not at the top: an app's modules may only be imported once every
        # app's models are loaded (Django's app-loading order).
        from early_warning import hooks as early_warning_hooks
        from iap_portal import audit, wording
        from notifications import hooks as notifications_hooks
        from students import hooks as students_hooks

        from . import access, deadlines, early_signals, exports, views  # noqa: F401 - exports registers
        from .models import PlanStatus, SupportPlan

        # The audit log says a plan's status changes in words.
        wording.STATUS_LABELS.register(SupportPlan._meta.label)(dict(PlanStatus.choices))
        students_hooks.specialist_pupil_ids.register(access.specialist_pupil_ids)
        students_hooks.specialists_who_see.register(access.specialists_who_see)
        students_hooks.pupil_page.register("plans")(views.pupil_page_plans)
        early_warning_hooks.plan_annotations.register(early_signals.plan_annotations)
        early_warning_hooks.support_periods.register(early_signals.support_periods)
        # Plans due, evaluations due and plans waiting too long for an approver.
        notifications_hooks.reminders.register("plans")(deadlines.reminders)
        notifications_hooks.late_items.register("plans")(deadlines.late_items)
        # Forgetting a pupil (iap_portal.audit.forget_students) finds their plans' events.
        audit.PUPIL_OBJECTS.register(SupportPlan._meta.label)(
            lambda ids: SupportPlan.objects.filter(student_id__in=ids).values_list("pk", flat=True)
        )
