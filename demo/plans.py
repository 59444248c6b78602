"""Demo plans for the demo school (called by ``load_demo``).

Past semesters get evaluated plans whose participation equals the school's published
figures; the current school year gets plans in every status so that every page has something
to show. Each semester is generated once: a semester that already has plans is left alone.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from plans.models import (
    CompensationCategory,
    Consultation,
    PlanEvaluation,
    PlanRisk,
    PlanStatus,
    PlanStatusChange,
    RiskFactor,
    SupportMeasure,
    SupportPlan,
)
from plans.services import plan_code
from students.models import Enrollment, Semester, SpecialistType

# Pupils taking part, as published by Preiļu 1.pamatskola: (start year, semester) -> count.
PUBLISHED = {
    (2017, 1): 10,
    (2017, 2): 11,
    (2018, 1): 13,
    (2018, 2): 19,
    (2019, 1): 17,
    (2019, 2): 23,
    (2020, 1): 20,
    (2020, 2): 16,
}

# Risk factor code -> a justification (codes: plans/migrations/0006_risk_factor_versions.py).
JUSTIFICATIONS = {
    "zemi-macibu-sasniegumi": "Semestra vērtējumi zem 4 balles {n} mācību priekšmetos.",
    "neattaisnoti-kavejumi": "{n} neattaisnoti kavētas stundas pēdējā mēnesī.",
    "macibu-motivacijas-trukums": "Bieži nepilda mājasdarbus, stundās neiesaistās.",
    "nepatika-pret-macibam-vai-macibu-prieksmetu": "Atsakās strādāt matemātikas stundās.",
    "zinasanu-robi": "Pēc ilgstošas slimības nav apguvis {n} tēmas.",
    "konflikti-ar-pedagogiem": "Atkārtoti konflikti stundās, ieraksti e-klasē.",
    "konflikti-ar-vienaudziem": "Konflikti ar klasesbiedriem, sociālā pedagoga novērojumi.",
    "macibu-slodzes-parslodze": "Papildus mācībām strādā vakaros, nogurums.",
    "gimenes-trucigums-vai-maznodrosinatiba": "Ģimenei piešķirts trūcīgas ģimenes statuss.",
    "attalums-lidz-skolai-un-transporta-izmaksas": "Dzīvo {n} km no skolas, sabiedriskais "
    "transports ir jāapmaksā.",
    "velme-stradat-algotu-darbu": "Izteicis vēlmi pamest skolu un strādāt.",
    "vecaki-arzemes": "Abi vecāki strādā ārzemēs, dzīvo pie vecvecākiem.",
    "krize-gimene": "Vecāku šķiršanās, emocionāla nestabilitāte.",
    "nepietiekams-vecaku-atbalsts": "Vecāki neapmeklē sapulces, nav sazināmi.",
    "hroniska-slimiba": "Hroniska slimība, bieži kavējumi ārstēšanās dēļ.",
    "psihoemocionalas-grutibas": "Trauksme, izvairīšanās no stundām.",
    "atstumtibas-sajuta": "Jūtas atstumts klasē, nav draugu.",
    "grutnieciba": "Grūtniecība, nepieciešams individuāls mācību plāns.",
}
TOPICS = [
    "Mācību motivācija un mērķi",
    "Stundu kavējumu iemesli",
    "Konfliktu risināšana",
    "Mācīšanās prasmes",
    "Emociju pašregulācija",
    "Sagatavošanās pārbaudes darbam",
    "Attiecības klasē",
]


def _aware(day, hour=9):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


class DemoPlans:
    def __init__(self, *, school, users, today):
        self.school = school
        self.users = users
        self.today = today
        self.coordinator = users["koordinators"]
        self.psychologist = users["psihologs"]
        self.social_pedagogue = users["socpedagogs"]
        factors = list(
            RiskFactor.objects.national().filter(is_active=True).select_related("risk_type")
        )
        self.learning_factors = [f for f in factors if f.risk_type.number == 1]
        self.other_factors = [f for f in factors if f.risk_type.number != 1]
        types = {t.name: t for t in SpecialistType.objects.all()}
        self.psihologs = types["psihologs"]
        self.pedagogs = types["pedagogs"]
        self.soc_ped = types["sociālais pedagogs"]

    # --- the pupils of a semester ---------------------------------------------------------

    def enrollments(self, semester):
        return list(
            Enrollment.objects.filter(
                school_year=semester.school_year, class_group__school=self.school
            )
            .select_related("student", "class_group")
            .prefetch_related("class_group__class_teachers")
            .order_by("student__last_name", "student__first_name", "student__pk")
        )

    def run(self):
        semesters = Semester.objects.select_related("school_year").order_by("start_date")
        for semester in semesters:
            if SupportPlan.objects.filter(school=self.school, semester=semester).exists():
                continue
            key = (semester.school_year.start_year, semester.number)
            rng = random.Random(f"{key}")
            if semester.end_date < self.today:
                count = PUBLISHED.get(key) or rng.randint(14, 22)
                self.past_semester(semester, count, rng)
            elif semester.start_date <= self.today:
                self.current_semester(semester, rng)
            else:
                self.next_semester(semester, rng)

    # --- building blocks ------------------------------------------------------------------

    def new_plan(self, semester, enrollment, sequence, status, **fields):
        teachers = list(enrollment.class_group.class_teachers.all())
        preparer = teachers[0] if teachers else self.social_pedagogue
        return SupportPlan(
            student=enrollment.student,
            school=self.school,
            semester=semester,
            kind=SupportPlan.Kind.REGULAR,
            sequence=sequence,
            code=plan_code(self.school, semester, sequence),
            preparer=preparer,
            status=status,
            parent_application_date=semester.start_date - timedelta(days=3),
            pupil_agreement=True,
            goals="Uzlabot mācību sasniegumus un regulāri apmeklēt skolu.",
            **fields,
        )

    def add_content(self, plan, rng, *, delivered_share=Decimal("0.9"), evaluated=False):
        """Risks, measures and (for started plans) consultations."""
        semester = plan.semester
        factors = rng.sample(self.learning_factors, rng.randint(1, 2))
        if rng.random() < 0.45:
            factors.append(rng.choice(self.other_factors))
        risks = []
        for factor in factors:
            text = JUSTIFICATIONS.get(factor.code, "Novērojumi stundās.").format(
                n=rng.randint(2, 14)
            )
            risks.append(
                PlanRisk.objects.create(
                    plan=plan,
                    risk_factor=factor,
                    level=rng.choice(["low", "medium", "medium", "high"]),
                    justification=text,
                    outcome=rng.choice(["reduced", "reduced", "unchanged"]) if evaluated else "",
                )
            )
        specialist, responsible = rng.choice(
            [
                (self.psihologs, self.psychologist),
                (self.pedagogs, plan.preparer),
                (self.soc_ped, self.social_pedagogue),
            ]
        )
        hours = Decimal(rng.choice([4, 6, 8, 10]))
        consultation = SupportMeasure.objects.create(
            plan=plan,
            measure_type=SupportMeasure.Type.CONSULTATION,
            specialist_type=specialist,
            responsible=responsible,
            planned_hours=hours,
            description="Individuālas konsultācijas",
            start_date=semester.start_date,
            end_date=semester.end_date,
            evaluation_note="Konsultācijas notika regulāri." if evaluated else "",
        )
        consultation.risks.set(risks[:1])
        economic = [r for r in risks if r.risk_factor.risk_type.number == 2]
        if economic or rng.random() < 0.3:
            if not economic:
                factor = next(f for f in self.other_factors if f.risk_type.number == 2)
                economic = [
                    PlanRisk.objects.create(
                        plan=plan,
                        risk_factor=factor,
                        level="medium",
                        justification=JUSTIFICATIONS.get(factor.code, "").format(n=12),
                        outcome="unchanged" if evaluated else "",
                    )
                ]
            compensation = SupportMeasure.objects.create(
                plan=plan,
                measure_type=SupportMeasure.Type.COMPENSATION,
                compensation_category=rng.choice(
                    [
                        CompensationCategory.TRANSPORT_TICKETS,
                        CompensationCategory.TRANSPORT_TICKETS,
                        CompensationCategory.MEALS,
                        CompensationCategory.LEARNING_MATERIALS,
                    ]
                ),
                responsible=self.social_pedagogue,
                planned_amount=Decimal(rng.choice([60, 90, 120, 150])),
                start_date=semester.start_date,
                end_date=semester.end_date,
            )
            compensation.risks.set(economic)
        # Consultations delivered so far, about one a fortnight.
        last_day = min(semester.end_date, self.today - timedelta(days=1))
        sessions = int(hours * delivered_share * 60 // 40)
        span = (last_day - semester.start_date).days
        if span > 0 and sessions:
            days = sorted(rng.sample(range(span), min(sessions, span)))
            Consultation.objects.bulk_create(
                Consultation(
                    measure=consultation,
                    date=semester.start_date + timedelta(days=d),
                    minutes=40,
                    topic=rng.choice(TOPICS),
                    provider=responsible,
                    # Past sessions: the pupil signed the paper sheet (a new one starts unsigned).
                    confirmation=Consultation.Confirmation.SIGNED,
                    created_at=_aware(semester.start_date + timedelta(days=d), 15),
                )
                for d in days
            )

    def record(self, plan, steps):
        PlanStatusChange.objects.bulk_create(
            PlanStatusChange(plan=plan, from_status=a, to_status=b, by=by, at=at, comment=c)
            for a, b, by, at, c in steps
        )

    def approved_steps(self, plan, semester, to):
        before = min(semester.start_date, self.today)
        submitted = _aware(before - timedelta(days=2))
        approved = _aware(before - timedelta(days=1))
        steps = [
            (PlanStatus.DRAFT, PlanStatus.DRAFT, plan.preparer, submitted - timedelta(days=1), ""),
            (PlanStatus.DRAFT, PlanStatus.SUBMITTED, plan.preparer, submitted, ""),
            (PlanStatus.SUBMITTED, PlanStatus.APPROVED, self.coordinator, approved, ""),
        ]
        if to != PlanStatus.APPROVED:
            steps.append(
                (PlanStatus.APPROVED, PlanStatus.IN_PROGRESS, None, _aware(semester.start_date), "")
            )
        return steps, submitted, approved

    # --- semesters ------------------------------------------------------------------------

    def past_semester(self, semester, count, rng):
        enrollments = self.enrollments(semester)
        chosen = rng.sample(enrollments, min(count, len(enrollments)))
        for sequence, enrollment in enumerate(chosen, start=1):
            plan = self.new_plan(semester, enrollment, sequence, PlanStatus.EVALUATED)
            steps, submitted, approved = self.approved_steps(plan, semester, PlanStatus.IN_PROGRESS)
            plan.submitted_at, plan.first_approved_at = submitted, approved
            plan.approved_by = self.coordinator
            plan.evaluated_at = _aware(semester.end_date)
            plan.save()
            self.add_content(plan, rng, evaluated=True)
            PlanEvaluation.objects.create(
                plan=plan,
                overall_outcome=rng.choice(
                    [SupportPlan.Outcome.PROMOTED] * 4 + [SupportPlan.Outcome.CONTINUES]
                ),
                narrative="Atbalsta pasākumi īstenoti; mācību sasniegumi uzlabojušies.",
                evaluated_by=plan.preparer,
                evaluated_at=plan.evaluated_at,
            )
            steps.append(
                (PlanStatus.IN_PROGRESS, PlanStatus.EVALUATED, plan.preparer, plan.evaluated_at, "")
            )
            self.record(plan, steps)
        # One deleted draft per year, which does not count as participation.
        rest = [e for e in enrollments if e not in chosen]
        if semester.number == 1 and rest:
            plan = self.new_plan(semester, rest[0], len(chosen) + 1, PlanStatus.INACTIVE)
            plan.save()
            at = _aware(semester.start_date)
            self.record(
                plan,
                [
                    (PlanStatus.DRAFT, PlanStatus.DRAFT, plan.preparer, at, ""),
                    (PlanStatus.DRAFT, PlanStatus.INACTIVE, plan.preparer, at, ""),
                ],
            )

    def current_semester(self, semester, rng):
        """Plans in every status; audzinataja's class gets the most, some pupils none."""
        enrollments = [e for e in self.enrollments(semester) if e.student.status == "active"]
        mine = [
            e
            for e in enrollments
            if self.users["audzinataja"] in e.class_group.class_teachers.all()
        ]
        others = [e for e in enrollments if e not in mine]
        rng.shuffle(others)
        plan_for = {
            PlanStatus.IN_PROGRESS: mine[:3] + others[:6],
            PlanStatus.SUBMITTED: mine[3:5] + others[6:7],
            PlanStatus.DRAFT: mine[5:6],
            PlanStatus.REVISION: mine[6:7],
            PlanStatus.SUSPENDED: mine[7:8],
            PlanStatus.INACTIVE: mine[8:9],
        }
        sequence = 0
        for status, chosen in plan_for.items():
            for enrollment in chosen:
                sequence += 1
                plan = self.new_plan(semester, enrollment, sequence, status)
                steps = [
                    (
                        PlanStatus.DRAFT,
                        PlanStatus.DRAFT,
                        plan.preparer,
                        _aware(semester.start_date),
                        "",
                    )
                ]
                if status in {PlanStatus.IN_PROGRESS, PlanStatus.REVISION, PlanStatus.SUSPENDED}:
                    more, plan.submitted_at, plan.first_approved_at = self.approved_steps(
                        plan, semester, PlanStatus.IN_PROGRESS
                    )
                    steps = more
                    plan.approved_by = self.coordinator
                if status == PlanStatus.SUBMITTED:
                    plan.submitted_at = _aware(self.today - timedelta(days=2))
                    steps.append(
                        (
                            PlanStatus.DRAFT,
                            PlanStatus.SUBMITTED,
                            plan.preparer,
                            plan.submitted_at,
                            "",
                        )
                    )
                if status == PlanStatus.REVISION:
                    steps.append(
                        (
                            PlanStatus.IN_PROGRESS,
                            PlanStatus.REVISION,
                            plan.preparer,
                            _aware(self.today - timedelta(days=5)),
                            "",
                        )
                    )
                if status == PlanStatus.SUSPENDED:
                    reason = "Ilgstoša prombūtne ārstēšanās dēļ."
                    plan.status_comment = reason
                    plan.status_before_suspension = PlanStatus.IN_PROGRESS
                    steps.append(
                        (
                            PlanStatus.IN_PROGRESS,
                            PlanStatus.SUSPENDED,
                            plan.preparer,
                            _aware(self.today - timedelta(days=10)),
                            reason,
                        )
                    )
                if status == PlanStatus.INACTIVE:
                    steps.append(
                        (
                            PlanStatus.DRAFT,
                            PlanStatus.INACTIVE,
                            plan.preparer,
                            _aware(semester.start_date),
                            "",
                        )
                    )
                if status == PlanStatus.DRAFT:
                    plan.parent_application_date = None
                plan.save()
                if status != PlanStatus.INACTIVE:
                    delivered = (
                        Decimal("0.5")
                        if plan.first_approved_at and status != PlanStatus.REVISION
                        else Decimal(0)
                    )
                    self.add_content(plan, rng, delivered_share=delivered)
                self.record(plan, steps)

    def next_semester(self, semester, rng):
        """Plans already approved for a semester that has not begun."""
        enrollments = [e for e in self.enrollments(semester) if e.student.status == "active"]
        for sequence, enrollment in enumerate(rng.sample(enrollments, 2), start=1):
            plan = self.new_plan(semester, enrollment, sequence, PlanStatus.APPROVED)
            steps, plan.submitted_at, plan.first_approved_at = self.approved_steps(
                plan, semester, PlanStatus.APPROVED
            )
            plan.approved_by = self.coordinator
            plan.save()
            self.add_content(plan, rng, delivered_share=Decimal(0))
            self.record(plan, steps)


def create_demo_plans(*, school, users, today):
    DemoPlans(school=school, users=users, today=today).run()
    SupportMeasure.objects.filter(
        plan__school=school, plan__first_approved_at__isnull=False
    ).approve_as_planned()
