"""A national data set for the benchmark (``python -m bench.generate_national_data``).

Municipalities, schools, five school years of classes and pupils, plans with their risks,
measures, consultations, evaluations, and compensation claims with lines — built with
``bulk_create`` in large batches, school by school in chunks so memory stays bounded. The
change history (simple-history) is not written: ``bulk_create`` sends no signals, and the
history tables play no part in the pages measured.

Every generated school has a registration number starting ``BENCH``; that is also the marker
by which a second run sees that the data is already there.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from compensations.models import ClaimLine, ClaimStatus, CompensationClaim
from demo.seed import ensure_seed_data
from plans.models import (
    CompensationCategory,
    Consultation,
    PlanEvaluation,
    PlanRisk,
    PlanStatus,
    RiskFactor,
    SupportMeasure,
    SupportPlan,
)
from plans.services import plan_code
from students.calendar import current_start_year, semester_dates
from students.models import (
    ApprovalLevel,
    ApprovalRoute,
    ClassGroup,
    Enrollment,
    Guardian,
    Membership,
    Municipality,
    Role,
    School,
    SchoolYear,
    Semester,
    SpecialistType,
    Student,
)

# Approval routes (issue 18). Most municipalities approve at the school only; every fifth
# (02, 07, 12, …) has school → municipality; one school in twelve (009, 021, …) is a state
# vocational school, school → IKVD. Municipality 02 is the city: a quarter of the schools, and
# a backlog of plans waiting for its approval this semester (≈ 2,000 at national size) for the
# municipal queue's row. School 001, whose pages the benchmark times, keeps "school only".
BACKLOG_MUNICIPALITY = 2


def municipality_number(school_number, municipalities):
    """Which municipality (1-based) a school belongs to: every fourth school to the city."""
    if municipalities > 1 and school_number % 4 == 2:
        return BACKLOG_MUNICIPALITY
    others = [m for m in range(1, municipalities + 1) if m != BACKLOG_MUNICIPALITY]
    return others[(school_number - 1) % len(others)]


def municipality_route(number):
    return ApprovalRoute.MUNICIPALITY if number % 5 == 2 else ApprovalRoute.SCHOOL


def school_route(school_number):
    """A state vocational school's own route, else none (the municipality's)."""
    return ApprovalRoute.AGENCY if school_number % 12 == 9 else ""


MARKER = "BENCH"
PASSWORD = "bench-password-2026"  # noqa: S105 - generated test data only
BATCH = 5000


@dataclass(frozen=True)
class Size:
    municipalities: int
    schools: int
    pupils: int
    years: int
    # The largest school (the one the benchmark logs in to) holds this many of the pupils.
    largest_school: int
    # The share of a year's pupils with a plan in a semester.
    plan_share: float = 0.185
    chunk_schools: int = 40


SIZES = {
    "national": Size(municipalities=40, schools=600, pupils=60_000, years=5, largest_school=1_200),
    "small": Size(municipalities=4, schools=20, pupils=2_000, years=5, largest_school=300),
    "tiny": Size(
        municipalities=2, schools=3, pupils=60, years=2, largest_school=30, plan_share=0.5
    ),
}

FIRST_NAMES = {
    "F": ["Anna", "Elza", "Laura", "Sofija", "Emīlija", "Marta", "Alise", "Paula", "Keita"],
    "M": ["Jānis", "Roberts", "Markuss", "Olivers", "Kārlis", "Daniels", "Artūrs", "Rūdolfs"],
}
SURNAMES = [
    ("Bērziņš", "Bērziņa"),
    ("Kalniņš", "Kalniņa"),
    ("Ozoliņš", "Ozoliņa"),
    ("Jansons", "Jansone"),
    ("Liepiņš", "Liepiņa"),
    ("Krūmiņš", "Krūmiņa"),
    ("Zariņš", "Zariņa"),
    ("Vītols", "Vītola"),
    ("Ivanovs", "Ivanova"),
    ("Petrovs", "Petrova"),
    ("Pētersons", "Pētersone"),
    ("Kļaviņš", "Kļaviņa"),
]
CATEGORIES = [c.value for c in CompensationCategory]


def usernames(school_number):
    """The generated staff of one school (the benchmark logs in as them)."""
    prefix = f"bench{school_number:03d}"
    return {
        "coordinator": f"{prefix}-koordinators",
        "social_pedagogue": f"{prefix}-socpedagogs",
        "specialist": f"{prefix}-psihologs",
        "teacher": lambda grade: f"{prefix}-skolotajs{grade:02d}",
    }


def existing_size():
    """(schools, pupils) already generated, or None."""
    schools = School.objects.filter(registration_number__startswith=MARKER)
    count = schools.count()
    if not count:
        return None
    return count, Student.objects.filter(school__in=schools).count()


def generate(size: Size, *, seed=1, today=None, log=lambda message: None):
    """Create the data set; returns the number of rows created per model."""
    today = today or timezone.localdate()
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    counts = {}

    def add(model, rows):
        if rows:
            model.objects.bulk_create(rows, batch_size=BATCH)
        counts[model.__name__] = counts.get(model.__name__, 0) + len(rows)
        return rows

    ensure_seed_data()
    with transaction.atomic():
        years = _calendar(size, today)
        semesters = [
            s
            for s in Semester.objects.filter(school_year__in=years.values()).select_related(
                "school_year"
            )
            if s.start_date <= today
        ]
        factors = list(
            RiskFactor.objects.national().filter(is_active=True).values_list("pk", flat=True)
        )
        psihologs = SpecialistType.objects.get(name="psihologs")
        password = make_password(PASSWORD)
        User = get_user_model()

        municipalities = add(
            Municipality,
            [
                Municipality(name=f"{MARKER} novads {n:02d}", approval_route=municipality_route(n))
                for n in range(1, size.municipalities + 1)
            ],
        )
        schools = add(
            School,
            [
                School(
                    name=f"{MARKER} skola {n:03d}",
                    registration_number=f"{MARKER}{n:05d}",
                    municipality=municipalities[municipality_number(n, size.municipalities) - 1],
                    approval_route=school_route(n),
                )
                for n in range(1, size.schools + 1)
            ],
        )
        aggregate_users = add(
            User,
            [User(username="bench-ikvd", password=password, first_name="IKVD", last_name="Bench")]
            + [
                User(username=f"bench-pasvaldiba{n:02d}", password=password, last_name=m.name)
                for n, m in enumerate(municipalities, start=1)
            ],
        )
        add(
            Membership,
            [Membership(user=aggregate_users[0], role=Role.AGENCY)]
            + [
                Membership(user=user, role=Role.MUNICIPALITY, municipality=m)
                for user, m in zip(aggregate_users[1:], municipalities, strict=True)
            ],
        )

        # Pupils per school: the first school is the largest, the rest share the remainder.
        rest = size.pupils - size.largest_school
        others = size.schools - 1
        per_school = [size.largest_school] + [
            rest // others + (1 if i < rest % others else 0) for i in range(others)
        ]
        deciders = {
            **{m.pk: user for m, user in zip(municipalities, aggregate_users[1:], strict=True)},
            "agency": aggregate_users[0],
        }
        backlog = municipalities[BACKLOG_MUNICIPALITY - 1].pk if len(municipalities) > 1 else None
        for start in range(0, len(schools), size.chunk_schools):
            chunk = list(enumerate(schools, start=1))[start : start + size.chunk_schools]
            _schools_chunk(
                size,
                chunk,
                per_school,
                years,
                semesters,
                factors,
                psihologs,
                password,
                rng,
                add,
                today,
                deciders,
                backlog,
            )
            log(
                f"schools {start + len(chunk)}/{len(schools)}: {counts.get('SupportPlan', 0)} plans"
            )
    return counts


def _calendar(size, today):
    last = current_start_year(today)
    years = {}
    for start_year in range(last - size.years + 1, last + 1):
        year, _ = SchoolYear.objects.get_or_create(start_year=start_year)
        for number, (start, end) in zip(
            (Semester.Number.FIRST, Semester.Number.SECOND), semester_dates(start_year), strict=True
        ):
            Semester.objects.get_or_create(
                school_year=year, number=number, defaults={"start_date": start, "end_date": end}
            )
        years[start_year] = year
    return years


def _aware(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _schools_chunk(
    size,
    chunk,
    per_school,
    years,
    semesters,
    factors,
    psihologs,
    password,
    rng,
    add,
    today,
    deciders,
    backlog_municipality,
):
    User = get_user_model()
    year_list = sorted(years)
    grades = range(1, 13)

    # Staff: coordinator, social pedagogue, a psychologist, a class teacher per grade.
    users, memberships, staff = [], [], {}
    for number, school in chunk:
        names = usernames(number)
        people = {
            "coordinator": User(username=names["coordinator"], password=password),
            "social_pedagogue": User(username=names["social_pedagogue"], password=password),
            "specialist": User(username=names["specialist"], password=password),
        }
        for grade in grades:
            people[grade] = User(username=names["teacher"](grade), password=password)
        for person in people.values():
            person.first_name = rng.choice(FIRST_NAMES["F"])
            person.last_name = rng.choice(SURNAMES)[1]
        staff[school.pk] = people
        users += people.values()
    add(User, users)
    for _number, school in chunk:
        people = staff[school.pk]
        memberships += [
            Membership(user=people["coordinator"], school=school, role=Role.COORDINATOR),
            Membership(user=people["social_pedagogue"], school=school, role=Role.SOCIAL_PEDAGOGUE),
            Membership(
                user=people["specialist"],
                school=school,
                role=Role.SPECIALIST,
                specialist_type=psihologs,
            ),
        ] + [
            Membership(user=people[grade], school=school, role=Role.CLASS_TEACHER)
            for grade in grades
        ]
    add(Membership, memberships)

    # Classes: one per grade, school and year, taught by the school's teacher of that grade.
    groups = {}
    for _number, school in chunk:
        for start_year in year_list:
            for grade in grades:
                groups[school.pk, start_year, grade] = ClassGroup(
                    school=school, school_year=years[start_year], grade=grade, letter="a"
                )
    add(ClassGroup, list(groups.values()))
    Teachers = ClassGroup.class_teachers.through
    add(
        Teachers,
        [
            Teachers(classgroup_id=group.pk, user_id=staff[school_pk][grade].pk)
            for (school_pk, _year, grade), group in groups.items()
        ],
    )

    # Pupils, each in a class every year until they leave.
    students, grade_of = [], {}
    first_year = year_list[0]
    for number, school in chunk:
        for _ in range(per_school[number - 1]):
            gender = rng.choice("FM")
            start_grade = rng.randint(1, 13 - len(year_list))
            left = rng.random() < 0.03
            student = Student(
                school=school,
                first_name=rng.choice(FIRST_NAMES[gender]),
                last_name=rng.choice(SURNAMES)[0 if gender == "M" else 1],
                gender=gender,
                birth_date=date(first_year - 6 - start_grade, 1, 1)
                + timedelta(days=rng.randrange(365)),
                status=Student.Status.LEFT if left else Student.Status.ACTIVE,
                left_on=date(year_list[-1] - 1, 3, 15) if left else None,
            )
            grade_of[id(student)] = start_grade
            students.append(student)
    add(Student, students)
    add(
        Guardian,
        [
            Guardian(
                student=s,
                name=f"{rng.choice(FIRST_NAMES['F'])} {s.last_name}",
                phone=f"+371 2{rng.randrange(10**7):07d}",
            )
            for s in students
        ],
    )
    enrollments = []
    in_year = {}  # (school year) -> pupils enrolled that year
    for student in students:
        for offset, start_year in enumerate(year_list):
            if student.left_on and date(start_year, 9, 1) > student.left_on:
                break
            grade = grade_of[id(student)] + offset
            enrollments.append(
                Enrollment(
                    student=student,
                    class_group=groups[student.school_id, start_year, grade],
                    school_year=years[start_year],
                )
            )
            in_year.setdefault(start_year, []).append((student, grade))
    add(Enrollment, enrollments)

    # Plans: a share of each year's pupils, every semester that has begun.
    plans, sequences = [], {}
    for semester in semesters:
        start_year = semester.school_year.start_year
        current = semester.end_date >= today
        for student, grade in in_year.get(start_year, []):
            if rng.random() >= size.plan_share:
                continue
            if student.left_on and semester.start_date > student.left_on:
                continue
            key = (student.school_id, semester.pk)
            sequences[key] = sequences.get(key, 0) + 1
            school = student.school
            route = school.route
            backlog = current and school.municipality_id == backlog_municipality
            status = _plan_status(rng, current, backlog=backlog and route != ApprovalRoute.SCHOOL)
            people = staff[student.school_id]
            submitted = semester.start_date + timedelta(days=rng.randrange(3, 20))
            approved = submitted + timedelta(days=rng.randrange(1, 6))
            was_approved = status not in {
                PlanStatus.DRAFT,
                PlanStatus.SUBMITTED,
                PlanStatus.INACTIVE,
            }
            # Above the school: who approved last, and where a submitted plan waits (the
            # city's backlog at the municipality; elsewhere half are still at the school).
            upper = {
                ApprovalRoute.MUNICIPALITY: ApprovalLevel.MUNICIPALITY,
                ApprovalRoute.AGENCY: ApprovalLevel.AGENCY,
            }.get(route)
            level = ApprovalLevel.SCHOOL
            if status == PlanStatus.SUBMITTED and upper and (backlog or rng.random() < 0.5):
                level = upper
            school_approved = level != ApprovalLevel.SCHOOL or (was_approved and upper is not None)
            decider = people["coordinator"]
            if upper == ApprovalLevel.MUNICIPALITY:
                decider = deciders[school.municipality_id]
            elif upper == ApprovalLevel.AGENCY:
                decider = deciders["agency"]
            plan = SupportPlan(
                student=student,
                school_id=student.school_id,
                semester=semester,
                sequence=sequences[key],
                code=plan_code(student.school, semester, sequences[key]),
                preparer=people[grade],
                status=status,
                goals="Uzlabot mācību sasniegumus un regulāri apmeklēt skolu.",
                parent_application_date=semester.start_date,
                pupil_agreement=True,
                submitted_at=_aware(submitted) if status != PlanStatus.DRAFT else None,
                first_approved_at=_aware(approved) if was_approved else None,
                approved_by=decider if was_approved else None,
                approval_level=level,
                level_since=_aware(approved, 9) if level != ApprovalLevel.SCHOOL else None,
                school_approved_by=people["coordinator"] if school_approved else None,
                school_approved_at=_aware(approved, 9) if school_approved else None,
                evaluated_at=_aware(semester.end_date) if status == PlanStatus.EVALUATED else None,
            )
            plans.append(plan)
    add(SupportPlan, plans)

    risks = []
    for plan in plans:
        for factor in rng.sample(factors, 2):
            risks.append(
                PlanRisk(
                    plan=plan,
                    risk_factor_id=factor,
                    level=rng.choice(["low", "medium", "high"]),
                    justification="Novērojumi e-klasē un sarunas ar vecākiem.",
                    outcome=rng.choice(["reduced", "unchanged"])
                    if plan.status == PlanStatus.EVALUATED
                    else "",
                )
            )
    add(PlanRisk, risks)

    measures, links = [], []
    for index, plan in enumerate(plans):
        people = staff[plan.school_id]
        semester = plan.semester
        consultation = SupportMeasure(
            plan=plan,
            measure_type=SupportMeasure.Type.CONSULTATION,
            specialist_type=psihologs,
            responsible=people["specialist"],
            planned_hours=Decimal(rng.choice([4, 6, 8, 10])),
            start_date=semester.start_date,
            end_date=semester.end_date,
        )
        compensation = SupportMeasure(
            plan=plan,
            measure_type=SupportMeasure.Type.COMPENSATION,
            compensation_category=rng.choice(CATEGORIES),
            responsible=people["social_pedagogue"],
            planned_amount=Decimal(rng.choice([60, 90, 120, 150])),
            start_date=semester.start_date,
            end_date=semester.end_date,
        )
        if plan.first_approved_at:  # approved as planned
            consultation.approved_hours = consultation.planned_hours
            compensation.approved_amount = compensation.planned_amount
        measures += [consultation, compensation]
        links += [(consultation, risks[2 * index]), (compensation, risks[2 * index + 1])]
    add(SupportMeasure, measures)
    Links = SupportMeasure.risks.through
    add(Links, [Links(supportmeasure_id=m.pk, planrisk_id=r.pk) for m, r in links])

    consultations, evaluations, claims, lines = [], [], [], []
    claim_sequences = {}
    for index, plan in enumerate(plans):
        if plan.first_approved_at is None:
            continue
        consultation, compensation = measures[2 * index], measures[2 * index + 1]
        semester = plan.semester
        last_day = min(semester.end_date, today)
        span = max((last_day - semester.start_date).days, 1)
        for _ in range(rng.randint(2, 7)):
            day = semester.start_date + timedelta(days=rng.randrange(span))
            consultations.append(
                Consultation(
                    measure=consultation,
                    date=day,
                    minutes=rng.choice([30, 40, 45, 60]),
                    topic="Sarunas par mācībām un motivāciju",
                    provider=consultation.responsible,
                    created_at=_aware(day, 15),
                )
            )
        if plan.status == PlanStatus.EVALUATED:
            evaluations.append(
                PlanEvaluation(
                    plan=plan,
                    narrative="Skolēns regulāri apmeklē skolu, vērtējumi uzlabojušies.",
                    overall_outcome=rng.choice(["continues", "promoted", "promoted", "extended"]),
                    evaluated_by=plan.preparer,
                    evaluated_at=plan.evaluated_at,
                )
            )
        people = staff[plan.school_id]
        current = semester.end_date >= today
        for _ in range(rng.randint(1, 3)):
            month = semester.start_date.replace(day=1) + timedelta(days=31 * rng.randrange(4))
            month = min(month, today).replace(day=1)
            claim_sequences[plan.school_id] = claim_sequences.get(plan.school_id, 0) + 1
            sequence = claim_sequences[plan.school_id]
            status = _claim_status(rng, current)
            amount = Decimal(rng.choice([12, 18, 24, 30])) + Decimal("0.50")
            decided = status not in {ClaimStatus.DRAFT, ClaimStatus.SUBMITTED}
            submitted_at = _aware(month + timedelta(days=27))
            claims.append(
                CompensationClaim(
                    measure=compensation,
                    plan=plan,
                    school_id=plan.school_id,
                    code=f"K-{plan.school_id}-{month.year}-{sequence:05d}",
                    sequence=sequence,
                    month=month,
                    status=status,
                    total=amount,
                    submitted_by=plan.preparer,
                    submitted_at=submitted_at if status != ClaimStatus.DRAFT else None,
                    decided_by=people["social_pedagogue"] if decided else None,
                    decided_at=submitted_at + timedelta(days=2) if decided else None,
                    decision_comment="Nepilnīgi čeki." if status == ClaimStatus.REJECTED else "",
                    paid_on=month + timedelta(days=40) if status == ClaimStatus.PAID else None,
                    payment_reference=f"MK-{sequence}" if status == ClaimStatus.PAID else "",
                    paid_by=people["coordinator"] if status == ClaimStatus.PAID else None,
                )
            )
    add(Consultation, consultations)
    add(PlanEvaluation, evaluations)
    add(CompensationClaim, claims)
    for claim in claims:
        lines.append(
            ClaimLine(claim=claim, date=claim.month, description="Biļetes", amount=claim.total)
        )
    add(ClaimLine, lines)


def _plan_status(rng, current, *, backlog=False):
    roll = rng.random()
    if backlog:  # the city's plans this semester: most wait for the municipality
        table = [
            (0.10, PlanStatus.DRAFT),
            (0.82, PlanStatus.SUBMITTED),
            (0.95, PlanStatus.IN_PROGRESS),
            (0.98, PlanStatus.SUSPENDED),
            (1.00, PlanStatus.INACTIVE),
        ]
    elif current:
        table = [
            (0.10, PlanStatus.DRAFT),
            (0.20, PlanStatus.SUBMITTED),
            (0.30, PlanStatus.APPROVED),
            (0.95, PlanStatus.IN_PROGRESS),
            (0.98, PlanStatus.SUSPENDED),
            (1.00, PlanStatus.INACTIVE),
        ]
    else:
        table = [
            (0.85, PlanStatus.EVALUATED),
            (0.90, PlanStatus.SUSPENDED),
            (0.95, PlanStatus.INACTIVE),
            (1.00, PlanStatus.IN_PROGRESS),
        ]
    return next(status for limit, status in table if roll < limit)


def _claim_status(rng, current):
    roll = rng.random()
    if current:
        table = [
            (0.2, ClaimStatus.DRAFT),
            (0.5, ClaimStatus.SUBMITTED),
            (0.8, ClaimStatus.APPROVED),
            (1.0, ClaimStatus.PAID),
        ]
    else:
        table = [(0.8, ClaimStatus.PAID), (0.9, ClaimStatus.APPROVED), (1.0, ClaimStatus.REJECTED)]
    return next(status for limit, status in table if roll < limit)
