"""PostgreSQL restarted under load (issue 22, "Faults survived"): gunicorn and a task worker,
as in production, against a throwaway PostgreSQL cluster of the test's own (the machine's
shared server is never touched); 20 users browse and 5 class teachers submit plans while the
cluster stops and starts again. During the outage the users get the 503 page, never a 500;
afterwards everything works without restarting gunicorn or the worker; every submission that
showed its success page is in the database."""

import glob
import http.cookiejar
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from plans.models import PlanStatus
from plans.tests.factories import ready_plan
from reports.models import PlanBundle
from students.models import Role, Semester
from students.tests.factories import (
    ClassGroupFactory,
    MembershipFactory,
    StudentFactory,
    UserFactory,
    enrol,
)

ROOT = Path(__file__).resolve().parents[2]
BROWSERS, SUBMITTERS, PLANS_EACH = 20, 5, 6
SUCCESS = "Plāns iesniegts saskaņošanai."


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def binaries():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class Cluster:
    """A PostgreSQL cluster in a temporary directory, run as the postgres user."""

    def __init__(self, bin_dir):
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="iap-pg-", dir="/tmp"))  # noqa: S108
        self.port = free_port()
        postgres = pwd.getpwnam("postgres")
        os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
        self.as_postgres(
            "initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres", "--no-sync"
        )

    def as_postgres(self, program, *args):
        command = ["runuser", "-u", "postgres", "--", str(self.bin / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"{program}: {done.stdout}{done.stderr}"

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.as_postgres(
            "pg_ctl",
            "-D",
            f"{self.dir}/data",
            "-l",
            f"{self.dir}/log",
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self):
        # "fast": the server ends every session at once, as a restart by an administrator does.
        self.as_postgres("pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")

    def remove(self):
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", f"{self.dir}/data"]
            + ["-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.dir, ignore_errors=True)

    def query(self, sql, params=()):
        """One statement on the cluster's copy of the data; the first column of its rows."""
        db = psycopg2.connect(host=str(self.dir), port=self.port, user="postgres", dbname="iap")
        try:
            with db, db.cursor() as cursor:
                cursor.execute(sql, params)
                return [row[0] for row in cursor.fetchall()] if cursor.description else []
        finally:
            db.close()


def _errors(text):
    """The logged errors that were not answered with the 503 page (Django logs each answer's
    traceback under a line naming its status)."""
    blocks = re.split(r"\n(?=[A-Z][a-z]+(?: [A-Z][a-z]+)*: /)", text)
    return "\n".join(b for b in blocks if b and not b.startswith("Service Unavailable"))[-8000:]


class Log(list):
    def __init__(self):
        super().__init__()
        self.unexpected = []


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One user's browser: their session cookie, plain HTTP to gunicorn, every answer logged."""

    def __init__(self, base, session_key, log):
        self.base, self.log = base, log
        self.jar = http.cookiejar.CookieJar()
        self.jar.set_cookie(_cookie(settings.SESSION_COOKIE_NAME, session_key))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def request(self, path, data=None):
        request = urllib.request.Request(self.base + path, data=data)  # noqa: S310 - http only
        if data is not None:
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                status, body, location = response.status, response.read().decode(), None
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode(errors="replace")
            location = error.headers.get("Location")
        except OSError:
            status, body, location = 0, "", None  # no answer at all
        self.log.append((time.monotonic(), status))
        if status not in {200, 302, 503}:
            self.log.unexpected.append((data is not None, path, status))
        return status, body, location


def _cookie(name, value):
    return http.cookiejar.Cookie(
        0,
        name,
        value,
        None,
        False,
        "127.0.0.1",
        False,
        False,
        "/",
        True,
        False,
        None,
        False,
        None,
        None,
        {},
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_restart_under_load_is_survived(cast_tx, private_media, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("runs in CI's PostgreSQL pass (it copies the PostgreSQL test database)")
    bin_dir = binaries()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if bin_dir is None or not shutil.which("runuser") or not gunicorn.exists():
        pytest.skip("needs the PostgreSQL server binaries, runuser and gunicorn")

    # --- The data: 5 teachers with draft plans ready to submit, sessions for everyone -------
    semester = Semester.objects.current()
    teachers = []
    for number in range(SUBMITTERS):
        teacher = UserFactory(username=f"teacher{number}")
        MembershipFactory(user=teacher, school=cast_tx.school, role=Role.CLASS_TEACHER)
        class_group = ClassGroupFactory(school=cast_tx.school, school_year=cast_tx.year, grade=9)
        class_group.class_teachers.add(teacher)
        drafts = []
        for _ in range(PLANS_EACH):
            student = StudentFactory(school=cast_tx.school)
            enrol(student, class_group)
            drafts.append(
                ready_plan(student=student, preparer=teacher, responsible=cast_tx.specialist).pk
            )
        teachers.append((teacher, drafts))
    readers = [cast_tx.coordinator, cast_tx.class_teacher, cast_tx.social_pedagogue]
    sessions = {}
    for user in readers + [t for t, _ in teachers]:
        client = Client()
        client.force_login(user)
        sessions[user.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value
    # A bundle waiting until after the restart (its task is let run then, below).
    bundle = PlanBundle.objects.create(
        school=cast_tx.school, semester=semester, requested_by=cast_tx.coordinator
    )

    DBTaskResult.objects.create(
        task_path="reports.tasks.build_bundle",
        args_kwargs={"args": [], "kwargs": {"bundle_id": str(bundle.public_id)}},
        backend_name="default",
        run_after=timezone.now() + timedelta(days=1),
    )

    cluster = Cluster(bin_dir)
    processes = []
    try:
        cluster.start()
        db = connection.settings_dict
        dump = cluster.dir / "test.dump"
        subprocess.run(
            [str(bin_dir / "pg_dump"), "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"])]
            + ["-U", db["USER"], "-Fc", "-f", str(dump), db["NAME"]],
            check=True,
            env={**os.environ, "PGPASSWORD": db["PASSWORD"] or ""},
        )
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", str(cluster.dir), "-p", str(cluster.port)]
            + ["-U", "postgres", "iap"],
            check=True,
        )
        subprocess.run(
            [str(bin_dir / "pg_restore"), "-h", str(cluster.dir), "-p", str(cluster.port)]
            + ["-U", "postgres", "-d", "iap", "--no-owner", str(dump)],
            check=True,
        )

        # --- gunicorn and a task worker, as deploy/ runs them -------------------------------
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{cluster.port}/iap",
            "DJANGO_DEBUG": "0",
            "IAP_PRIVATE_MEDIA_ROOT": str(private_media),
            "IAP_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        }
        processes.append(
            subprocess.Popen(
                [str(gunicorn), "iap_portal.wsgi", f"--bind=127.0.0.1:{port}", "--workers=2"]
                + ["--worker-class=gthread", "--threads=8", "--log-level=error", "--timeout=60"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=open(tmp_path / "gunicorn.log", "wb"),  # noqa: SIM115 - for the process
            )
        )
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.5", "--no-reload"]
            + ["--no-startup-delay", "--worker-id", "restart-test"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(worker)
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        warm = Browser(base, sessions[cast_tx.coordinator.pk], Log())
        assert warm.request(reverse("home"))[0] == 200

        # --- The load, and the restart in the middle of it -----------------------------------
        log, stop = Log(), threading.Event()
        succeeded, unconfirmed = [], []
        pages = [reverse("home"), reverse("student_list"), reverse("plan_list")]

        def browse(number):
            user = readers[number % len(readers)]
            browser = Browser(base, sessions[user.pk], log)
            while not stop.is_set():
                browser.request(pages[number % len(pages)])
                number += 1
                time.sleep(0.3)

        def submit(teacher, drafts):
            """Open the plan, press "Submit"; on the 503 page wait a moment and press again,
            as a teacher would."""
            browser = Browser(base, sessions[teacher.pk], log)
            for pk in drafts:
                while not stop.is_set():
                    status, body, _ = browser.request(reverse("plan_detail", args=[pk]))
                    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
                    if status == 200 and token:
                        status, _, location = browser.request(
                            reverse("plan_submit", args=[pk]),
                            data=f"csrfmiddlewaretoken={token.group(1)}".encode(),
                        )
                        if status == 302:
                            status, body, _ = browser.request(location)
                            if status == 200 and SUCCESS in body:
                                succeeded.append(pk)
                            else:  # refused (already submitted), or the 503 page after all
                                unconfirmed.append((pk, status))
                            break
                    time.sleep(0.5)
                time.sleep(0.5)

        submitters = [threading.Thread(target=submit, args=t) for t in teachers]
        threads = [threading.Thread(target=browse, args=(n,)) for n in range(BROWSERS)]
        threads += submitters
        for thread in threads:
            thread.start()
        time.sleep(3)
        down_at = time.monotonic()
        cluster.stop()
        time.sleep(4)
        cluster.start()
        up_at = time.monotonic()
        for thread in submitters:  # the teachers go on until each plan is sent
            thread.join(max(0.1, up_at + 40 - time.monotonic()))
        time.sleep(max(0, up_at + 5 - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(60)

        # --- What the users saw ---------------------------------------------------------------
        statuses = [status for _at, status in log]
        during = [status for at, status in log if down_at <= at <= up_at]
        after = [status for at, status in log if at > up_at + 2]
        counts = {s: statuses.count(s) for s in sorted(set(statuses))}
        print(
            f"answers {counts}; outage {up_at - down_at:.1f} s; submitted {len(succeeded)}, "
            f"unconfirmed {unconfirmed}; 503 from "
            f"{min(a for a, s in log if s == 503) - down_at:.1f} to "
            f"{max(a for a, s in log if s == 503) - down_at:.1f} s after the stop"
        )
        # Never a 500, never a dropped request.
        assert set(statuses) <= {200, 302, 503}, (
            counts,
            log.unexpected,
            _errors((tmp_path / "gunicorn.log").read_text(errors="replace")),
        )
        assert 503 in during, "the outage should have been seen"
        assert after and set(after) <= {200, 302}, "everything works again after the restart"
        outage_page = Browser(base, sessions[cast_tx.coordinator.pk], Log())
        assert outage_page.request(reverse("home"))[0] == 200

        # --- What the database kept -----------------------------------------------------------
        assert len(succeeded) + len(unconfirmed) == SUBMITTERS * PLANS_EACH, "all were sent"
        assert succeeded, "some submissions should have got through"
        submitted = cluster.query(
            "SELECT id FROM plans_supportplan WHERE status = %s AND id = ANY(%s)",
            (PlanStatus.SUBMITTED, succeeded),
        )
        assert sorted(submitted) == sorted(succeeded)

        # --- The worker lived through it: a task let run now is done --------------------------
        assert worker.poll() is None
        cluster.query("UPDATE django_tasks_database_dbtaskresult SET run_after = now()")
        status = "reports_planbundle"
        for _ in range(120):
            (status,) = cluster.query(
                "SELECT status FROM reports_planbundle WHERE id = %s", (bundle.pk,)
            )
            if status in {"done", "failed"}:
                break
            time.sleep(0.25)
        assert status == "done"
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        cluster.remove()
