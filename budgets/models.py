"""Each school's allocation per school year, against which plans and claims are measured
(the payments issue's budgets)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from compensations.models import EUR
from plans.models import SupportPlan
from students.models import ApprovalLevel, School, SchoolYear


class Allocation(models.Model):
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("school")
    )
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.PROTECT, related_name="+", verbose_name=_("school year")
    )
    compensations = models.DecimalField(_("compensations, EUR"), **EUR)
    consultation_hours = models.DecimalField(
        _("consultation hours"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["school_year", "school"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year"], name="allocation_one_per_school_year"
            ),
            models.CheckConstraint(
                condition=Q(compensations__gte=0), name="allocation_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(consultation_hours__isnull=True) | Q(consultation_hours__gte=0),
                name="allocation_hours_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.school} {self.school_year}"


class OverBudgetApproval(models.Model):
    """A plan approved (at one level of its route) although, with the school's other approved
    plans, its planned compensations went over the school's allocation: the approver was
    warned with these figures and approved all the same. The plan's status history says so in
    words; this row keeps the figures for the budget pages."""

    plan = models.ForeignKey(
        SupportPlan, on_delete=models.CASCADE, related_name="+", verbose_name=_("plan")
    )
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    school_year = models.ForeignKey(SchoolYear, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=12, choices=ApprovalLevel.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("when"), default=timezone.now)
    allocated = models.DecimalField(_("allocated, EUR"), **EUR)
    planned_elsewhere = models.DecimalField(_("planned in other approved plans, EUR"), **EUR)
    this_plan = models.DecimalField(_("this plan, EUR"), **EUR)
    over_by = models.DecimalField(_("over by, EUR"), **EUR)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("approval over budget")
        verbose_name_plural = _("approvals over budget")
        indexes = [models.Index(fields=["school", "school_year"])]

    def __str__(self):
        return f"{self.plan} {self.level} +{self.over_by}"
