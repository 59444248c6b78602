"""A second demo municipality whose plans pass the approval route (called by ``load_demo``).

Līvānu novads has two schools: Līvānu 1. vidusskola, whose plans go school → municipality,
and Līvānu Valsts tehnikums, a state vocational school, whose plans go school → IKVD. The
current semester's plans wait at every level, some of them late. The municipality's register
holds two youth NGO projects running through the semester, which some of the plans use (the
approved ones count in the reports: four pupils in one project, two in the other). The plans
go through the services, as people would make them (their history and audit log too); only
the time they have waited is set back afterwards. Preiļu 1. pamatskola and its figures are
not touched.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from plans import services
from plans.models import (
    CompensationCategory,
    NgoProject,
    PlanRisk,
    PlanStatus,
    RiskFactor,
    SupportMeasure,
    SupportPlan,
)
from students.models import (
    ApprovalRoute,
    ClassGroup,
    Enrollment,
    Membership,
    Municipality,
    Role,
    School,
    SchoolYear,
    Semester,
    SpecialistType,
    Student,
)

MUNICIPALITY = "Līvānu novads"
SCHOOLS = [
    # registration number, name, own route, coordinator, class teacher, grade
    (
        "4313900117",
        "Līvānu 1. vidusskola",
        ApprovalRoute.MUNICIPALITY,
        ("koordinators2", "Ieva", "Sproģe"),
        ("audzinatajs2", "Raitis", "Bite"),
        10,
    ),
    (
        "3111800123",
        "Līvānu Valsts tehnikums",
        ApprovalRoute.AGENCY,
        ("koordinators3", "Agris", "Pudāns"),
        ("audzinatajs3", "Baiba", "Stepiņa"),
        11,
    ),
]
MUNICIPAL_COORDINATOR = ("pasvaldiba2", "Gita", "Ločmele")
PUPILS = [
    ("Alise", "Kalve", "F"),
    ("Reinis", "Ūdris", "M"),
    ("Marta", "Gailīte", "F"),
    ("Kristaps", "Lauva", "M"),
    ("Elīna", "Zvaigzne", "F"),
    ("Jānis", "Ritums", "M"),
    ("Laila", "Smiltiņa", "F"),
    ("Dāvids", "Ezeriņš", "M"),
]
# What becomes of the pupils' plans, in order: (the level it waits at or None when approved
# through the whole route or a draft, working days it has waited there).
PLAN_STATES = [
    ("school", 1),
    ("school", 7),
    ("upper", 2),
    ("upper", 3),
    ("upper", 9),
    ("approved", 0),
    ("approved", 0),
    ("draft", 0),
]

# The municipality's youth NGO projects: (title, NGO, registration number, budget, the
# indices of the pupils whose plans use it).
NGO_PROJECTS = [
    (
        "Līvānu jauniešu iniciatīvu centrs",
        "Biedrība “Jaunieši Līvāniem”",
        "40003032949",
        Decimal("4600.00"),
        {0, 2, 5, 6},
    ),
    (
        "Dubnas krasta brīvprātīgie",
        "Biedrība “Dubna”",
        "40008001112",
        Decimal("4580.00"),
        {1, 3, 4, 6},
    ),
]


def _ngo_projects(municipality, semester):
    projects = []
    for title, ngo, number, budget, pupils in NGO_PROJECTS:
        project, _ = NgoProject.objects.get_or_create(
            municipality=municipality,
            title=title,
            defaults={
                "ngo_name": ngo,
                "ngo_registration_number": number,
                "contest_round": f"{semester.school_year} / 1. kārta",
                "start_date": semester.start_date,
                "end_date": semester.end_date,
                "budget": budget,
                "status": NgoProject.Status.RUNNING,
            },
        )
        projects.append((project, pupils))
    return projects


def _user(username, first, last, password):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@livani.example.lv"},
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _working_days_back(today, days):
    day = today
    while days > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def create_demo_chain(*, today, agency_user, password):
    """Create (once) the municipality, its schools, people and plans. Returns the logins."""
    municipality, _ = Municipality.objects.get_or_create(name=MUNICIPALITY)
    head = _user(*MUNICIPAL_COORDINATOR, password)
    Membership.objects.get_or_create(user=head, role=Role.MUNICIPALITY, municipality=municipality)
    year = SchoolYear.objects.current(today)
    # The semester under way, or in a holiday the next one.
    semester = (
        Semester.objects.current(today)
        or Semester.objects.filter(start_date__gt=today).order_by("start_date").first()
    )
    logins = [MUNICIPAL_COORDINATOR[0]]
    projects = _ngo_projects(municipality, semester) if semester else []
    for number, name, route, coordinator, teacher, grade in SCHOOLS:
        school, _ = School.objects.get_or_create(
            registration_number=number,
            defaults={"name": name, "municipality": municipality, "approval_route": route},
        )
        people = {}
        for key, (username, first, last), role in (
            ("coordinator", coordinator, Role.COORDINATOR),
            ("teacher", teacher, Role.CLASS_TEACHER),
        ):
            people[key] = _user(username, first, last, password)
            Membership.objects.get_or_create(user=people[key], school=school, role=role)
            logins.append(username)
        group, _ = ClassGroup.objects.get_or_create(
            school=school, school_year=year, grade=grade, letter="a"
        )
        group.class_teachers.add(people["teacher"])
        pupils = []
        for index, (first, last, gender) in enumerate(PUPILS):
            student, _ = Student.objects.get_or_create(
                school=school,
                first_name=first,
                last_name=last,
                defaults={"gender": gender, "birth_date": date(today.year - 17, 3, 1 + index)},
            )
            Enrollment.objects.get_or_create(
                student=student, school_year=year, defaults={"class_group": group}
            )
            pupils.append((index, student))
        if semester is None or SupportPlan.objects.filter(school=school).exists():
            continue
        for index, student in pupils:
            used = [project for project, indices in projects if index in indices]
            state = PLAN_STATES[index]
            _plan(school, semester, student, people, head, agency_user, state, today, used)
    return logins


def _plan(school, semester, student, people, head, agency_user, state, today, projects):
    what, waited = state
    teacher, coordinator = people["teacher"], people["coordinator"]
    plan = services.create_plan(
        student=student, semester=semester, kind=SupportPlan.Kind.REGULAR, by=teacher
    )
    SupportPlan.objects.filter(pk=plan.pk).update(
        parent_application_date=semester.start_date,
        pupil_agreement=True,
        goals="Regulāri apmeklēt skolu un nokārtot semestra pārbaudes darbus.",
    )
    factor = RiskFactor.objects.national().filter(is_active=True, risk_type__number=1).first()
    economic = RiskFactor.objects.national().filter(is_active=True, risk_type__number=2).first()
    learning = PlanRisk.objects.create(
        plan=plan, risk_factor=factor, level="medium", justification="Vērtējumi zem 4 ballēm."
    )
    money = PlanRisk.objects.create(
        plan=plan, risk_factor=economic, level="medium", justification="Transporta izmaksas."
    )
    consultation = SupportMeasure.objects.create(
        plan=plan,
        measure_type=SupportMeasure.Type.CONSULTATION,
        specialist_type=SpecialistType.objects.get(name="pedagogs"),
        responsible=teacher,
        planned_hours=Decimal(4 + student.pk % 3 * 2),
        start_date=semester.start_date,
        end_date=semester.end_date,
    )
    consultation.risks.set([learning])
    tickets = SupportMeasure.objects.create(
        plan=plan,
        measure_type=SupportMeasure.Type.COMPENSATION,
        compensation_category=CompensationCategory.TRANSPORT_TICKETS,
        responsible=teacher,
        planned_amount=Decimal(60 + student.pk % 4 * 30),
        start_date=semester.start_date,
        end_date=semester.end_date,
    )
    tickets.risks.set([money])
    for project in projects:
        SupportMeasure.objects.create(
            plan=plan,
            measure_type=SupportMeasure.Type.NGO_PROJECT,
            ngo_project=project,
            responsible=teacher,
            start_date=semester.start_date,
            end_date=semester.end_date,
        ).risks.set([learning])
    if what == "draft":
        return
    plan = services.submit_plan(plan=SupportPlan.objects.get(pk=plan.pk), by=teacher)
    upper = head if school.route == ApprovalRoute.MUNICIPALITY else agency_user
    if what in {"upper", "approved"}:
        plan = services.approve_plan(plan=plan, by=coordinator)
    if what == "approved":
        plan = services.approve_plan(
            plan=SupportPlan.objects.select_related("school__municipality").get(pk=plan.pk),
            by=upper,
        )
    if plan.status == PlanStatus.SUBMITTED and waited:
        since = timezone.make_aware(datetime.combine(_working_days_back(today, waited), time(10)))
        SupportPlan.objects.filter(pk=plan.pk).update(level_since=since)
