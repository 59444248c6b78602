"""Demo claims for the demo school's compensation measures (called by ``load_demo``).

Past semesters: a claim a month, mostly paid, some rejected. The current semester: claims in
every status. Each receipt is a small generated PNG. Measures that have claims are left alone.
"""

import io
import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from compensations.models import (
    ClaimLine,
    ClaimStatus,
    ClaimStatusChange,
    CompensationClaim,
    Receipt,
)
from compensations.services import month_end
from plans.models import PlanStatus, SupportMeasure

DESCRIPTIONS = {
    "transport_tickets": "Autobusa biļetes Preiļi–{place}",
    "meals": "Pusdienas skolas ēdnīcā",
    "learning_materials": "Darba burtnīcas un kancelejas preces",
    "accommodation": "Dienesta viesnīca",
    "personal_items": "Sporta apavi",
    "special_transport": "Speciālais transports",
}
PLACES = ["Aglona", "Riebiņi", "Pelēči", "Galēni", "Sauna", "Rušona"]


def _aware(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _receipt_png(text):
    image = Image.new("RGB", (240, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([2, 2, 237, 117], outline="black")
    draw.text((12, 14), "KASES CEKS", fill="black")
    draw.text((12, 50), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class DemoClaims:
    def __init__(self, *, school, users, today):
        self.school = school
        self.today = today
        self.teacher_for = {}
        self.social_pedagogue = users["socpedagogs"]
        self.coordinator = users["koordinators"]
        self.sequence = (
            CompensationClaim.objects.filter(school=school)
            .order_by("-sequence")
            .values_list("sequence", flat=True)
            .first()
            or 0
        )

    def run(self):
        measures = (
            SupportMeasure.objects.filter(
                plan__school=self.school,
                measure_type=SupportMeasure.Type.COMPENSATION,
                plan__first_approved_at__isnull=False,
                claims__isnull=True,
            )
            .exclude(plan__status=PlanStatus.INACTIVE)
            .select_related("plan__semester", "plan__preparer", "plan__student")
            .order_by("pk")
        )
        current = []
        for measure in measures:
            if measure.plan.semester.end_date < self.today:
                self.past(measure, random.Random(measure.plan.code))
            elif measure.plan.semester.start_date <= self.today:
                current.append(measure)
        self.current(current)

    def months(self, measure, until):
        month = measure.start_date.replace(day=1)
        while month <= min(measure.end_date, until):
            yield month
            month = month_end(month) + timedelta(days=1)

    def claim(self, measure, month, amount, status, rng):
        self.sequence += 1
        plan = measure.plan
        submitted = _aware(min(month_end(month), self.today - timedelta(days=1)))
        claim = CompensationClaim.objects.create(
            measure=measure,
            plan=plan,
            school=self.school,
            sequence=self.sequence,
            code=f"K-{self.school.pk}-{month.year}-{self.sequence:04d}",
            month=month,
            total=amount,
            submitted_by=plan.preparer,
            submitted_at=submitted if status != ClaimStatus.DRAFT else None,
        )
        day = min(month + timedelta(days=rng.randint(2, 20)), month_end(month), self.today)
        description = DESCRIPTIONS.get(measure.compensation_category, "Izdevumi").format(
            place=rng.choice(PLACES)
        )
        ClaimLine.objects.create(claim=claim, date=day, description=description, amount=amount)
        receipt = Receipt(
            claim=claim,
            original_name=f"ceks-{day:%Y%m%d}.png",
            content_type=Receipt.Kind.PNG,
            uploaded_by=plan.preparer,
            uploaded_at=submitted,
        )
        content = _receipt_png(f"{day:%d.%m.%Y}  {amount} EUR")
        receipt.size = len(content)
        receipt.file.save("receipt.png", ContentFile(content), save=False)
        receipt.save()
        steps = []
        if status != ClaimStatus.DRAFT:
            steps.append((ClaimStatus.DRAFT, ClaimStatus.SUBMITTED, plan.preparer, submitted, ""))
        decided = submitted + timedelta(days=2)
        if status in ClaimStatus.GRANTED:
            steps.append(
                (ClaimStatus.SUBMITTED, ClaimStatus.APPROVED, self.social_pedagogue, decided, "")
            )
            claim.decided_by, claim.decided_at = self.social_pedagogue, decided
        if status in {ClaimStatus.REJECTED, ClaimStatus.RETURNED}:
            comment = (
                "Čeks neattiecas uz skolēna braucieniem."
                if status == ClaimStatus.REJECTED
                else "Pievienojiet čeku par visu summu."
            )
            steps.append((ClaimStatus.SUBMITTED, status, self.social_pedagogue, decided, comment))
            claim.decided_by, claim.decided_at, claim.decision_comment = (
                self.social_pedagogue,
                decided,
                comment,
            )
        if status == ClaimStatus.PAID:
            paid = (decided + timedelta(days=7)).date()
            paid = min(paid, self.today)
            steps.append(
                (ClaimStatus.APPROVED, ClaimStatus.PAID, self.coordinator, _aware(paid, 14), "")
            )
            claim.paid_on, claim.paid_by = paid, self.coordinator
            claim.payment_reference = f"PN-{paid:%Y%m}-{self.sequence:04d}"
        claim.status = status
        claim.save()
        ClaimStatusChange.objects.bulk_create(
            ClaimStatusChange(claim=claim, from_status=a, to_status=b, by=by, at=at, comment=c)
            for a, b, by, at, c in steps
        )

    def past(self, measure, rng):
        months = list(self.months(measure, self.today))
        share = (measure.planned_amount / max(len(months), 1)).quantize(Decimal("0.01"))
        for month in months:
            if rng.random() < 0.2:
                continue
            amount = (share * Decimal(rng.uniform(0.6, 0.95))).quantize(Decimal("0.01"))
            status = ClaimStatus.REJECTED if rng.random() < 0.08 else ClaimStatus.PAID
            self.claim(measure, month, amount, status, rng)

    # The current semester shows every status, dealt in turn (not drawn at random: how many
    # months have passed by the day the demo is loaded must not leave one out). Two approved:
    # the payments demo refuses one at the bank and leaves one waiting in a sent batch.
    CURRENT_STATUSES = (
        ClaimStatus.PAID,
        ClaimStatus.APPROVED,
        ClaimStatus.SUBMITTED,
        ClaimStatus.RETURNED,
        ClaimStatus.APPROVED,
        ClaimStatus.REJECTED,
        ClaimStatus.DRAFT,
    )
    ALONG = (
        ClaimStatus.PAID,
        ClaimStatus.REJECTED,
        ClaimStatus.APPROVED,
        ClaimStatus.RETURNED,
        ClaimStatus.SUBMITTED,
        ClaimStatus.DRAFT,
    )

    def current(self, measures):
        """Claims of the current semester: a month each, every status shown."""
        slots = [(m, month) for m in measures for month in self.months(m, self.today)]
        if not slots:
            return
        # However few months have passed when the demo is loaded, every status is shown: the
        # last month takes the claims left over (a school files several claims a month).
        count = len(self.CURRENT_STATUSES)
        while len(slots) < count:
            slots.append(slots[-1])
        dealt = {}
        for i, (measure, month) in enumerate(slots):
            dealt.setdefault(measure.pk, []).append((month, self.CURRENT_STATUSES[i % count]))
        for measure in measures:
            claims = dealt.get(measure.pk, [])
            # Within a measure the older months are further along; the claims together stay
            # below the measure's approved amount.
            statuses = sorted((status for _, status in claims), key=self.ALONG.index)
            share = (measure.planned_amount / (len(claims) + 1)).quantize(Decimal("0.01"))
            rng = random.Random(measure.plan.code)
            for (month, _), status in zip(claims, statuses, strict=True):
                self.claim(measure, month, share, status, rng)


def create_demo_claims(*, school, users, today):
    DemoClaims(school=school, users=users, today=today).run()
