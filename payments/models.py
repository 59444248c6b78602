"""Paying approved compensation claims: payees, payment batches sent to the payer, the bank
file and the outcome per claim (the payments issue)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from compensations.models import EUR, CompensationClaim
from students.models import Guardian, Municipality, Payer, School, Student


class Payee(models.Model):
    """Who receives a claim's money: a guardian, the adult pupil, or an organisation.

    Personal data (but for organisations): entered by the coordinator or the social pedagogue,
    changed with history, in the pupil's archive, removed by anonymisation. The IBAN is stored
    normalised (upper case, no spaces) and shown masked except to whoever pays.
    """

    class Kind(models.TextChoices):
        GUARDIAN = "guardian", _("guardian")
        PUPIL = "pupil", _("the pupil (adult)")
        ORGANISATION = "organisation", _("organisation (caterer, dormitory, carrier)")

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    kind = models.CharField(_("payee type"), max_length=12, choices=Kind.choices)
    # A guardian's or the pupil's payee belongs to the pupil; an organisation to the school.
    student = models.ForeignKey(
        Student,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="payees",
        verbose_name=_("pupil"),
    )
    guardian = models.ForeignKey(
        Guardian,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("guardian"),
    )
    name = models.CharField(pgettext_lazy("payee", "name"), max_length=200)
    registration_number = models.CharField(_("registration number"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34)
    is_active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("payee")
        verbose_name_plural = _("payees")
        constraints = [
            models.CheckConstraint(
                name="payee_kind_matches_owner",
                condition=(
                    Q(kind="organisation", student__isnull=True, guardian__isnull=True)
                    | Q(kind="pupil", student__isnull=False, guardian__isnull=True)
                    # A guardian removed later leaves the payee (its payments stand).
                    | Q(kind="guardian", student__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="payee_organisation_has_registration_number",
                condition=~Q(kind="organisation") | ~Q(registration_number=""),
            ),
            models.CheckConstraint(
                name="payee_iban_normalised",
                condition=Q(iban__regex=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$"),
            ),
        ]
        indexes = [models.Index(fields=["school", "kind"])]

    def __str__(self):
        return self.name


class ClaimPayee(models.Model):
    """The payee a claim is paid to (the pupil's first guardian unless someone chose)."""

    claim = models.OneToOneField(
        CompensationClaim, on_delete=models.CASCADE, related_name="payee_choice"
    )
    payee = models.ForeignKey(
        Payee, on_delete=models.PROTECT, related_name="claim_choices", verbose_name=_("payee")
    )
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("claim's payee")
        verbose_name_plural = _("claims' payees")

    def __str__(self):
        return f"{self.claim} → {self.payee}"


class DebtorAccount(models.Model):
    """The payer's own account for the bank file: a municipality's, or a school's that pays
    itself (exactly one of the two)."""

    municipality = models.OneToOneField(
        Municipality,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="debtor_account",
        verbose_name=_("municipality"),
    )
    school = models.OneToOneField(
        School,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="debtor_account",
        verbose_name=_("school"),
    )
    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("payer's account")
        verbose_name_plural = _("payers' accounts")
        constraints = [
            models.CheckConstraint(
                name="debtor_account_one_owner",
                condition=Q(municipality__isnull=False, school__isnull=True)
                | Q(municipality__isnull=True, school__isnull=False),
            ),
            models.CheckConstraint(
                name="debtor_account_iban_normalised",
                condition=Q(iban__regex=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$"),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.iban[-4:]})"


class BatchStatus(models.TextChoices):
    OPEN = "open", _("Being put together")
    SENT = "sent", _("Sent to the payer")
    CLOSED = "closed", _("Settled")


BatchStatus.LOCKED = frozenset({BatchStatus.SENT, BatchStatus.CLOSED})


class PaymentBatch(models.Model):
    """A month's approved claims of one school for one payer; locked once sent."""

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    payer = models.CharField(_("payer"), max_length=12, choices=Payer.choices)
    # The payer's municipality (the school's when the batch was made): the accountant's scope.
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))
    code = models.CharField(_("batch code"), max_length=40, unique=True, editable=False)
    sequence = models.PositiveIntegerField(editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.OPEN
    )
    total = models.DecimalField(_("amount, EUR"), default=0, editable=False, **EUR)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The debtor as the bank file named it, kept when the batch is sent.
    debtor_name = models.CharField(max_length=70, blank=True)
    debtor_iban = models.CharField(max_length=34, blank=True)
    debtor_bic = models.CharField(max_length=11, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-month", "-pk"]
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        constraints = [
            models.UniqueConstraint(fields=["school", "sequence"], name="batch_unique_sequence"),
            # One batch being put together per school, payer and month: claims go into it.
            models.UniqueConstraint(
                fields=["school", "payer", "month"],
                condition=Q(status="open"),
                name="batch_one_open_per_month",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="batch_month_first_day"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(sent_at__isnull=False, sent_by__isnull=False),
                name="batch_sent_has_sender",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "payer", "status"])]

    def __str__(self):
        return self.code

    @property
    def is_locked(self):
        return self.status in BatchStatus.LOCKED


class LineOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    PAID = "paid", _("Paid")
    REFUSED = "refused", _("Refused by the bank")


class BatchLine(models.Model):
    """One claim in a batch, with the payee as the batch was sent (a later change of the payee
    does not change what was sent), and its outcome."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.CASCADE, related_name="lines")
    claim = models.ForeignKey(
        CompensationClaim, on_delete=models.PROTECT, related_name="batch_lines"
    )
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="batch_lines")
    payee_name = models.CharField(pgettext_lazy("payee", "name"), max_length=200)
    iban = models.CharField(_("IBAN"), max_length=34)
    amount = models.DecimalField(_("amount, EUR"), **EUR)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=LineOutcome.choices, default=LineOutcome.PENDING
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    refusal_reason = models.CharField(_("reason"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["batch", "payee_name", "pk"]
        verbose_name = _("batch line")
        verbose_name_plural = _("batch lines")
        constraints = [
            # A claim is in at most one batch; a line the bank refused frees it for another.
            models.UniqueConstraint(
                fields=["claim"],
                condition=~Q(outcome="refused"),
                name="batchline_claim_in_one_batch",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="batchline_amount_positive"),
            models.CheckConstraint(
                name="batchline_outcome_recorded",
                condition=Q(outcome="pending")
                | Q(outcome="paid", paid_on__isnull=False, recorded_by__isnull=False)
                | Q(outcome="refused", recorded_by__isnull=False) & ~Q(refusal_reason=""),
            ),
        ]

    def __str__(self):
        return f"{self.batch.code}: {self.claim.code}"
