"""The fixed cast every view is tested against (see conventions.md).

Two schools in two municipalities. In school A: a class teacher of 7.a (alice), a teacher of
8.b (bob), a specialist, the social pedagogue and the coordinator. School B has its own
coordinator. Above them: a municipality user and a municipal accountant for A's municipality,
and an agency user.
"""

import errno
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

import pytest
from django.db import connections, transaction
from django.utils import timezone

from demo.seed import ensure_seed_data
from students.models import Role, SpecialistType
from students.tests.factories import (
    ClassGroupFactory,
    MembershipFactory,
    SchoolFactory,
    SchoolYearFactory,
    StudentFactory,
    UserFactory,
    enrol,
)

CAST_ROLES = [
    "class_teacher",
    "other_teacher",
    "specialist",
    "social_pedagogue",
    "coordinator",
    "other_coordinator",
    "municipality",
    "municipal_accountant",
    "agency",
]


def current_start_year():
    today = timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


def pytest_configure(config):
    from django.conf import settings
    from django.core.signals import setting_changed

    # Hashing the cast's passwords with PBKDF2 costs seconds per test; MD5 is fine in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Background tasks run at once, in the test's own thread and transaction.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # The apps imported their task modules while loading, which made the configured backend:
    # say that the setting changed, so django-tasks makes the immediate one instead.
    setting_changed.send(sender=type(settings), setting="TASKS", value=settings.TASKS, enter=True)


@dataclass
class Cast:
    school: object
    other_school: object
    year: object
    last_year: object
    class_group: object
    other_class: object
    student: object
    other_student: object
    outsider_student: object
    users: dict

    def __getattr__(self, name):
        try:
            return self.__dict__["users"][name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def cast_tx(transactional_db):
    """The cast in a database whose transactions really commit (for concurrency tests)."""
    return build_cast()


def build_cast():
    ensure_seed_data()
    year = SchoolYearFactory(start_year=current_start_year())
    last_year = SchoolYearFactory(start_year=current_start_year() - 1)
    school = SchoolFactory(name="Preiļu 1.pamatskola")
    other_school = SchoolFactory(name="Rīgas 1.vidusskola")
    users = {role: UserFactory(username=role) for role in CAST_ROLES}
    psihologs = SpecialistType.objects.get(name="psihologs")

    class_group = ClassGroupFactory(school=school, school_year=year, grade=7, letter="a")
    other_class = ClassGroupFactory(school=school, school_year=year, grade=8, letter="b")
    class_group.class_teachers.add(users["class_teacher"])
    other_class.class_teachers.add(users["other_teacher"])

    MembershipFactory(user=users["class_teacher"], school=school, role=Role.CLASS_TEACHER)
    MembershipFactory(user=users["other_teacher"], school=school, role=Role.CLASS_TEACHER)
    MembershipFactory(
        user=users["specialist"], school=school, role=Role.SPECIALIST, specialist_type=psihologs
    )
    MembershipFactory(user=users["social_pedagogue"], school=school, role=Role.SOCIAL_PEDAGOGUE)
    MembershipFactory(user=users["coordinator"], school=school, role=Role.COORDINATOR)
    MembershipFactory(user=users["other_coordinator"], school=other_school, role=Role.COORDINATOR)
    MembershipFactory(
        user=users["municipality"],
        school=None,
        municipality=school.municipality,
        role=Role.MUNICIPALITY,
    )
    MembershipFactory(
        user=users["municipal_accountant"],
        school=None,
        municipality=school.municipality,
        role=Role.MUNICIPAL_ACCOUNTANT,
    )
    MembershipFactory(user=users["agency"], school=None, role=Role.AGENCY)

    student = StudentFactory(school=school, first_name="Elza", last_name="Bērziņa")
    other_student = StudentFactory(school=school, first_name="Kārlis", last_name="Ozols")
    outsider_student = StudentFactory(school=other_school, first_name="Marta", last_name="Liepa")
    enrol(student, class_group)
    enrol(other_student, other_class)
    enrol(outsider_student, ClassGroupFactory(school=other_school, school_year=year, grade=7))
    return Cast(
        school=school,
        other_school=other_school,
        year=year,
        last_year=last_year,
        class_group=class_group,
        other_class=other_class,
        student=student,
        other_student=other_student,
        outsider_student=outsider_student,
        users=users,
    )


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploaded receipts go to a temporary private media root in tests."""
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def full_disk(settings, tmp_path):
    """The private media root on a small tmpfs of its own, filled up but for ``free(n)`` bytes
    (issue 22: the disk fills while a bundle or a receipt is written). Needs root (mount)."""
    root = tmp_path / "small-disk"
    root.mkdir()
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if not mount or not umount:
        pytest.skip("mount and umount are missing")
    mounted = subprocess.run(  # noqa: S603 - fixed arguments, a directory of the test's own
        [mount, "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", str(root)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    filler = root / ".filler"

    def free(room=0):
        """Fill the disk, then leave about ``room`` bytes free (tmpfs counts whole pages)."""
        filler.unlink(missing_ok=True)
        with open(filler, "wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 4096)
            except OSError as error:
                assert error.errno == errno.ENOSPC
        if room:
            os.truncate(filler, max(0, filler.stat().st_size - room))

    settings.MEDIA_ROOT = root / "private"
    free.root = settings.MEDIA_ROOT
    try:
        yield free
    finally:
        subprocess.run([umount, str(root)], check=False)  # noqa: S603 - as above


@pytest.fixture(autouse=True)
def empty_cache(settings):
    """Each test starts with empty caches. The shared report cache (a database table in
    production) is kept in memory here: Django's flush between transactional tests does not
    empty a cache table, so kept reports would leak from one test into the next. Tests of the
    database cache itself switch it back (reports/tests/test_snapshots.py)."""
    from django.core.cache import cache, caches

    settings.CACHES = {
        **settings.CACHES,
        "reports": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "reports-in-tests",
        },
    }
    cache.clear()
    caches["reports"].clear()


@pytest.fixture(autouse=True)
def default_language(settings):
    """Each test starts in the site's default language (Latvian). Django's LocaleMiddleware
    activates a request's language in the thread and leaves it there, so a test that made a
    request in English would otherwise change what the next test in the same worker reads."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def login(client):
    """Log the test client in as a user and return it."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


class _Undo(Exception):
    """Roll back what was only tried."""


def accepted(call, refused):
    """Whether ``call()`` goes through (True) or raises ``refused`` (False); either way nothing
    it wrote is kept. For matrices that compare a page's buttons with what the services do."""
    outcome = {}
    try:
        with transaction.atomic():
            outcome["result"] = call()
            raise _Undo
    except _Undo:
        return outcome["result"] is not False  # a call may answer False for "refused"
    except refused:
        return False


def overlapping(first, second, *, refused, hold=0.5):
    """Run ``first`` and ``second`` as two people at the same moment: each in its own thread
    and database connection, ``second`` starting once ``first`` has done its work but not yet
    committed (its transaction stays open for ``hold`` seconds, keeping whatever it locked).
    Returns what each returned, or the ``refused`` error it raised. For PostgreSQL: SQLite
    lets one writer at a time, so nothing overlaps there."""
    done = threading.Event()
    outcome = {}

    def run(name, work):
        try:
            if name == "first":
                with transaction.atomic():
                    outcome[name] = work()
                    done.set()
                    time.sleep(hold)
            else:
                done.wait(timeout=10)
                outcome[name] = work()
        except Exception as error:  # refusals are an outcome; anything else fails the test
            outcome[name] = error
        finally:
            done.set()
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=("first", first)),
        threading.Thread(target=run, args=("second", second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    results = outcome.get("first"), outcome.get("second")
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, refused):
            raise result
    return results
