"""Demo data: Preiļu 1.pamatskola with its classes, pupils and the six demo users, and a
second municipality whose plans pass the approval route (``demo.chain``).

Idempotent: every row is found by its natural key before it is created, and the pupils come
from a seeded generator, so a second run changes nothing.
"""

import random
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum.lv import pvn

from demo.budgets import create_demo_allocations
from demo.chain import create_demo_chain
from demo.compensations import create_demo_claims
from demo.early_warning import create_demo_signals
from demo.notifications import create_demo_notifications
from demo.payments import create_demo_payments
from demo.plans import create_demo_plans
from demo.seed import ensure_seed_data
from students.calendar import current_start_year, last_weekday_on_or_before, semester_dates
from students.models import (
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

FIRST_YEAR = 2017
GRADES = range(5, 10)
DEMO_PASSWORD = "demo"

DEMO_USERS = [
    # username, first name, last name, role
    ("koordinators", "Ilze", "Kalniņa", Role.COORDINATOR),
    ("audzinataja", "Anna", "Bērziņa", Role.CLASS_TEACHER),
    ("socpedagogs", "Līga", "Ozola", Role.SOCIAL_PEDAGOGUE),
    ("psihologs", "Māris", "Liepiņš", Role.SPECIALIST),
    ("pasvaldiba", "Inese", "Vītola", Role.MUNICIPALITY),
    ("ikvd", "Jānis", "Krūmiņš", Role.AGENCY),
]
OTHER_TEACHERS = [
    ("Dace", "Zariņa"),
    ("Guntis", "Kļaviņš"),
    ("Sandra", "Jansone"),
    ("Edgars", "Ozoliņš"),
    ("Ināra", "Pētersone"),
    ("Vija", "Siliņa"),
    ("Aigars", "Vanags"),
    ("Rita", "Eglīte"),
    ("Olga", "Ivanova"),
    ("Valdis", "Šmits"),
    ("Daiga", "Rudzīte"),
    ("Juris", "Lāce"),
    ("Skaidrīte", "Vilka"),
]
GIRLS = [
    "Anna",
    "Elza",
    "Sofija",
    "Emīlija",
    "Marta",
    "Alise",
    "Laura",
    "Paula",
    "Katrīna",
    "Evelīna",
    "Amēlija",
    "Keita",
    "Estere",
    "Rēzija",
    "Viktorija",
    "Madara",
    "Luīze",
    "Megija",
    "Dārta",
    "Agate",
    "Samanta",
    "Elīza",
    "Kristiāna",
    "Annija",
]
BOYS = [
    "Roberts",
    "Markuss",
    "Gustavs",
    "Ralfs",
    "Daniels",
    "Kārlis",
    "Emīls",
    "Rihards",
    "Artūrs",
    "Adrians",
    "Toms",
    "Kristers",
    "Mareks",
    "Maksims",
    "Niks",
    "Rolands",
    "Matīss",
    "Aleksandrs",
    "Jēkabs",
    "Dāvis",
    "Edvards",
    "Ričards",
    "Oskars",
    "Renārs",
]
# Surnames as (masculine, feminine).
SURNAMES = [
    ("Bērziņš", "Bērziņa"),
    ("Kalniņš", "Kalniņa"),
    ("Ozoliņš", "Ozoliņa"),
    ("Jansons", "Jansone"),
    ("Liepiņš", "Liepiņa"),
    ("Krastiņš", "Krastiņa"),
    ("Pētersons", "Pētersone"),
    ("Vītols", "Vītola"),
    ("Kļaviņš", "Kļaviņa"),
    ("Zariņš", "Zariņa"),
    ("Eglītis", "Eglīte"),
    ("Lācis", "Lāce"),
    ("Vanags", "Vanaga"),
    ("Rudzītis", "Rudzīte"),
    ("Siliņš", "Siliņa"),
    ("Skrastiņš", "Skrastiņa"),
    ("Grāvītis", "Grāvīte"),
    ("Kazāks", "Kazāka"),
    ("Upenieks", "Upeniece"),
    ("Mežs", "Meža"),
    ("Vilks", "Vilka"),
    ("Strods", "Stroda"),
    ("Anspoks", "Anspoka"),
    ("Pastars", "Pastare"),
    ("Rubenis", "Rubene"),
    ("Ivanovs", "Ivanova"),
    ("Petrovs", "Petrova"),
    ("Vasiļjevs", "Vasiļjeva"),
]


def make_personas_kods(rng, birth_date, new_format):
    while True:
        if new_format:
            body = "32" + "".join(rng.choice("0123456789") for _ in range(8))
        else:
            century = "2" if birth_date.year >= 2000 else "1"
            body = birth_date.strftime("%d%m%y") + century + f"{rng.randrange(1000):03d}"
        code = body + pvn.calc_check_digit_pers(body)
        if pvn.is_valid(code):
            return code


class Command(BaseCommand):
    help = "Create the demo school, its calendar, classes, pupils and users (idempotent)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("load_demo refuses to run with IAP_ENV=production.")
        today = timezone.localdate()
        with transaction.atomic():
            ensure_seed_data()
            school = self.create_school()
            years = self.create_calendar(current_start_year(today))
            users = self.create_users(school)
            self.create_pupils(school, years, users, today)
            create_demo_plans(school=school, users=users, today=today)
            create_demo_claims(school=school, users=users, today=today)
            create_demo_signals(school=school, users=users, today=today)
            accountant = create_demo_payments(
                school=school, users=users, today=today, password=DEMO_PASSWORD
            )
            chain_logins = create_demo_chain(
                today=today, agency_user=users["ikvd"], password=DEMO_PASSWORD
            )
            create_demo_allocations(today=today)
            create_demo_notifications(school=school, users=users, today=today)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        self.stdout.write(
            "Demo logins (password 'demo'): "
            + ", ".join(f"{u} ({r.label})" for u, _f, _l, r in DEMO_USERS)
        )
        self.stdout.write(f"Municipal accountant of Preiļu novads: {accountant}")
        self.stdout.write(
            "Līvānu novads, whose plans pass the approval route: " + ", ".join(chain_logins)
        )

    def create_school(self):
        municipality, _ = Municipality.objects.get_or_create(name="Preiļu novads")
        school, _ = School.objects.get_or_create(
            registration_number="4212900251",
            defaults={"name": "Preiļu 1.pamatskola", "municipality": municipality},
        )
        return school

    def create_calendar(self, last_start_year):
        years = {}
        for start_year in range(FIRST_YEAR, last_start_year + 1):
            year, _ = SchoolYear.objects.get_or_create(start_year=start_year)
            for number, (start, end) in zip(
                (Semester.Number.FIRST, Semester.Number.SECOND),
                semester_dates(start_year),
                strict=True,
            ):
                Semester.objects.get_or_create(
                    school_year=year,
                    number=number,
                    defaults={"start_date": start, "end_date": end},
                )
            years[start_year] = year
        return years

    def create_users(self, school):
        User = get_user_model()
        users = {}
        psihologs = SpecialistType.objects.get_or_create(name="psihologs")[0]
        for username, first, last, role in DEMO_USERS:
            user = self._user(User, username, first, last)
            scope = {}
            if role == Role.MUNICIPALITY:
                scope = {"municipality": school.municipality}
            elif role != Role.AGENCY:
                scope = {"school": school}
            Membership.objects.get_or_create(
                user=user,
                role=role,
                **scope,
                defaults={"specialist_type": psihologs if role == Role.SPECIALIST else None},
            )
            users[username] = user
        for index, (first, last) in enumerate(OTHER_TEACHERS, start=1):
            user = self._user(User, f"skolotajs{index}", first, last)
            Membership.objects.get_or_create(user=user, school=school, role=Role.CLASS_TEACHER)
            users[f"skolotajs{index}"] = user
        return users

    def _user(self, User, username, first, last):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@preilu1psk.example.lv",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def create_pupils(self, school, years, users, today):
        rng = random.Random(2017)
        last_year = max(years)
        # A cohort enters grade 5 in its entry year and leaves after grade 9. Cohorts that
        # were in grades 5–9 in 2017/2018 entered from 2013 on.
        first_entry = FIRST_YEAR - (len(GRADES) - 1)
        teacher_names = [f"skolotajs{i}" for i in range(1, len(OTHER_TEACHERS) + 1)]
        teachers_by_cohort = {}
        for entry in range(first_entry, last_year + 1):
            # audzinataja has the cohort that is in grade 7 in the current year.
            if entry == last_year - 2:
                teachers_by_cohort[entry] = users["audzinataja"]
            else:
                teachers_by_cohort[entry] = users[
                    teacher_names[(entry - first_entry) % len(teacher_names)]
                ]

        groups = {}
        for start_year, year in years.items():
            for grade in GRADES:
                group, _ = ClassGroup.objects.get_or_create(
                    school=school, school_year=year, grade=grade, letter="a"
                )
                group.class_teachers.add(teachers_by_cohort[start_year - (grade - 5)])
                groups[start_year, grade] = group

        seen = set()
        for entry in range(first_entry, last_year + 1):
            size = rng.randint(21, 27)
            for _ in range(size):
                girl = rng.random() < 0.5
                first = rng.choice(GIRLS if girl else BOYS)
                last = rng.choice(SURNAMES)[1 if girl else 0]
                born = date(entry - 11, 1, 1) + timedelta(days=rng.randrange(365))
                if (first, last, born) in seen:
                    continue
                seen.add((first, last, born))
                roll = rng.random()
                code = "" if roll < 0.12 else make_personas_kods(rng, born, new_format=roll > 0.9)
                leaves_early = rng.random() < 0.04
                graduated = entry + len(GRADES) - 1 < last_year
                left_on = None
                if graduated:
                    left_on = last_weekday_on_or_before(date(entry + len(GRADES), 6, 15))
                elif leaves_early and entry < last_year:
                    left_on = date(entry + 1, 3, 10)
                student, created = Student.objects.get_or_create(
                    school=school,
                    first_name=first,
                    last_name=last,
                    birth_date=born,
                    defaults={
                        "personas_kods": code,
                        "gender": Student.Gender.FEMALE if girl else Student.Gender.MALE,
                        "status": Student.Status.LEFT if left_on else Student.Status.ACTIVE,
                        "left_on": left_on,
                    },
                )
                # Draw from the generator whether or not the row exists, so a second run
                # walks the same sequence.
                parent_first = rng.choice(GIRLS + BOYS)
                parent_last = rng.choice(SURNAMES)[1 if parent_first in GIRLS else 0]
                phone = f"+371 2{rng.randrange(10**7):07d}"
                if created:
                    Guardian.objects.create(
                        student=student, name=f"{parent_first} {parent_last}", phone=phone
                    )
                for start_year in range(max(entry, FIRST_YEAR), last_year + 1):
                    grade = 5 + start_year - entry
                    if grade not in GRADES:
                        break
                    if left_on and date(start_year, 9, 1) > left_on:
                        break
                    Enrollment.objects.get_or_create(
                        student=student,
                        school_year=years[start_year],
                        defaults={"class_group": groups[start_year, grade]},
                    )
