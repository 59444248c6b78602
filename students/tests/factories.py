from datetime import date

import factory
from django.contrib.auth import get_user_model

from students.models import (
    ClassGroup,
    Enrollment,
    Membership,
    Municipality,
    Role,
    School,
    SchoolYear,
    Semester,
    Student,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.lv")
    password = factory.django.Password("correct horse battery")


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality

    name = factory.Sequence(lambda n: f"Novads {n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    name = factory.Sequence(lambda n: f"Skola {n}")
    registration_number = factory.Sequence(lambda n: f"90{n:08d}")
    municipality = factory.SubFactory(MunicipalityFactory)


class SchoolYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolYear
        django_get_or_create = ["start_year"]
        skip_postgeneration_save = True

    start_year = 2025

    @factory.post_generation
    def semesters(year, create, extracted, **kwargs):
        if not create:
            return
        y = year.start_year
        Semester.objects.get_or_create(
            school_year=year,
            number=1,
            defaults={"start_date": date(y, 9, 1), "end_date": date(y, 12, 31)},
        )
        Semester.objects.get_or_create(
            school_year=year,
            number=2,
            defaults={"start_date": date(y + 1, 1, 1), "end_date": date(y + 1, 8, 31)},
        )


class ClassGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassGroup

    school = factory.SubFactory(SchoolFactory)
    school_year = factory.SubFactory(SchoolYearFactory)
    grade = 7
    # a … z, then aa, ab, …: never the same letter twice in a run (a class is unique per
    # school, year, grade and letter, and a long test may make many classes of one grade).
    letter = factory.Sequence(
        lambda n: (
            "abcdefghijklmnopqrstuvwxyz"[n % 26] * (1 + n // 26 % 3)
            if n < 78
            else f"{n % 1000:03d}"
        )
    )


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    school = factory.SubFactory(SchoolFactory)
    first_name = factory.Sequence(lambda n: f"Vārds{n}")
    last_name = factory.Sequence(lambda n: f"Uzvārds{n}")
    gender = Student.Gender.FEMALE


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    student = factory.SubFactory(StudentFactory)
    class_group = factory.SubFactory(ClassGroupFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.CLASS_TEACHER
    school = factory.SubFactory(SchoolFactory)


def enrol(student, class_group):
    return Enrollment.objects.create(student=student, class_group=class_group)
