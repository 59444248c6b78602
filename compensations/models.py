"""Compensation claims against a plan's compensation measure, with receipts."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from iap_portal.i18n import format_day
from iap_portal.models import StatusChange
from iap_portal.storage import private_storage
from plans.models import SupportMeasure, SupportPlan
from students.models import School

EUR = {"max_digits": 9, "decimal_places": 2}


def receipt_path(instance, filename):
    # A random name: nothing of the pupil or the original file name on disk.
    return f"receipts/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for correction")
    PAID = "paid", _("Paid")


# Named sets of statuses (members of an enum cannot be sets, so they are set after it).
ClaimStatus.EDITABLE = frozenset({ClaimStatus.DRAFT, ClaimStatus.RETURNED})
# Money granted: approved, and perhaps paid already.
ClaimStatus.GRANTED = frozenset({ClaimStatus.APPROVED, ClaimStatus.PAID})
# Asked for and not turned down: submitted or granted.
ClaimStatus.CLAIMED = ClaimStatus.GRANTED | {ClaimStatus.SUBMITTED}
# The social pedagogue's decisions.
ClaimStatus.DECIDED = frozenset({ClaimStatus.APPROVED, ClaimStatus.REJECTED, ClaimStatus.RETURNED})


def money_sums():
    """The claimed, approved and paid sums of a group of claims (for ``annotate``)."""
    return {
        "claimed": Sum("total", filter=Q(status__in=ClaimStatus.CLAIMED)),
        "approved": Sum("total", filter=Q(status__in=ClaimStatus.GRANTED)),
        "paid": Sum("total", filter=Q(status=ClaimStatus.PAID)),
    }


class CompensationClaim(models.Model):
    measure = models.ForeignKey(
        SupportMeasure,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("compensation measure"),
    )
    # Kept from the measure so queues filter and sum without joins.
    plan = models.ForeignKey(SupportPlan, on_delete=models.PROTECT, related_name="claims")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("claim code"), max_length=40, unique=True, editable=False)
    sequence = models.PositiveIntegerField(editable=False)
    month = models.DateField(_("month"), help_text=_("The month the expenses belong to."))
    status = models.CharField(
        _("status"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT
    )
    total = models.DecimalField(_("amount, EUR"), default=0, editable=False, **EUR)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="submitted_claims",
        verbose_name=_("submitter"),
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("reason or comment"), blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-month", "-pk"]
        verbose_name = _("compensation claim")
        verbose_name_plural = _("compensation claims")
        constraints = [
            models.UniqueConstraint(fields=["school", "sequence"], name="claim_unique_sequence"),
            models.CheckConstraint(condition=Q(month__day=1), name="claim_month_first_day"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_on__isnull=False), name="claim_paid_has_date"
            ),
        ]
        indexes = [models.Index(fields=["school", "status", "month"])]

    def __str__(self):
        return self.code

    @property
    def is_editable(self):
        return self.status in ClaimStatus.EDITABLE


class ClaimLine(models.Model):
    claim = models.ForeignKey(CompensationClaim, on_delete=models.CASCADE, related_name="lines")
    date = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=200)
    amount = models.DecimalField(
        _("amount, EUR"), validators=[MinValueValidator(Decimal("0.01"))], **EUR
    )

    # What each line said before a change, and who changed it: the claim page tells it.
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("claim line")
        verbose_name_plural = _("claim lines")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="claimline_amount_positive")
        ]

    def __str__(self):
        return f"{format_day(self.date)} {self.description} {self.amount}"


class Receipt(models.Model):
    class Kind(models.TextChoices):
        PDF = "application/pdf", "PDF"
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"

    # The id in URLs: random, so one receipt's address says nothing about another's.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    claim = models.ForeignKey(CompensationClaim, on_delete=models.CASCADE, related_name="receipts")
    file = models.FileField(storage=private_storage, upload_to=receipt_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=20, choices=Kind.choices)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")

    def __str__(self):
        return self.original_name

    @property
    def is_image(self):
        return self.content_type in {self.Kind.JPEG, self.Kind.PNG}


class ClaimStatusChange(StatusChange):
    subject_field = "claim"
    claim = models.ForeignKey(
        CompensationClaim, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=10, choices=ClaimStatus.choices)
    to_status = models.CharField(max_length=10, choices=ClaimStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(StatusChange.Meta):
        verbose_name = _("claim status change")
        verbose_name_plural = _("claim status changes")
