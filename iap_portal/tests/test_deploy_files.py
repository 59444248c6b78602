"""The deployment files in deploy/ agree with the application they deploy: every setting read
from the environment is in the template, nginx's upload limits fit the app's, the URLs it
treats specially exist, and every timer runs a command that exists."""

import configparser
import re
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands
from django.urls import resolve, reverse

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"


def env_template():
    """The variables the template sets or names in a commented-out line."""
    names = set()
    for line in (DEPLOY / "iap.env.example").read_text().splitlines():
        match = re.match(r"^#?([A-Z][A-Z0-9_]+)=", line)
        if match:
            names.add(match.group(1))
    return names


def settings_variables():
    source = (ROOT / "iap_portal" / "settings.py").read_text()
    names = set(re.findall(r'env(?:_bool|_list)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    # IAP_APPROVAL_LATE_DAYS_{level.upper()} for each approval level.
    for template, levels in re.findall(
        r'env\(f"([A-Z_]+)\{level\.upper\(\)\}".*?for level in \(([^)]*)\)', source, re.S
    ):
        names |= {template + level.upper() for level in re.findall(r'"(\w+)"', levels)}
    return names


def unit(name):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(UNITS / name)
    return parser


def exec_lines(name):
    return [
        line.split("=", 1)[1]
        for line in (UNITS / name).read_text().splitlines()
        if line.startswith("ExecStart=")
    ]


def test_the_environment_template_names_every_variable_the_settings_read():
    read = settings_variables()
    assert {"DJANGO_SECRET_KEY", "IAP_PROXY_COUNT", "IAP_APPROVAL_LATE_DAYS_AGENCY"} <= read
    # Development only: production ignores DJANGO_DEBUG and has no SQLite; the template says so.
    development = {"DJANGO_DEBUG", "SQLITE_PATH"}
    text = (DEPLOY / "iap.env.example").read_text()
    assert all(name in text for name in development)
    missing = read - development - env_template()
    assert missing == set(), f"add to deploy/iap.env.example: {sorted(missing)}"


def test_the_environment_template_names_nothing_that_nothing_reads():
    deploy_files = "".join(
        p.read_text() for p in DEPLOY.rglob("*") if p.is_file() and p.suffix != ".example"
    )
    unread = {
        name
        for name in env_template() - settings_variables()
        if not re.search(rf"\b{name}\b", deploy_files)
    }
    assert unread == set()


def test_the_template_is_production_and_trusts_exactly_one_proxy():
    text = (DEPLOY / "iap.env.example").read_text()
    for line in ("IAP_ENV=production", "IAP_BEHIND_TLS_PROXY=1", "IAP_PROXY_COUNT=1"):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
    proxy = (DEPLOY / "nginx" / "iap-proxy.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in proxy
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in proxy


def megabytes(value):
    number, unit_ = re.fullmatch(r"(\d+)([km]?)", value).groups()
    return int(number) * {"": 1, "k": 2**10, "m": 2**20}[unit_]


def test_nginx_admits_the_uploads_the_application_accepts_and_no_more_elsewhere():
    site = (DEPLOY / "nginx" / "iap-portal.conf").read_text()
    limits = re.findall(r"client_max_body_size (\w+);", site)
    general, claims = megabytes(limits[0]), megabytes(limits[1])
    assert settings.IAP_IMPORT_MAX_BYTES < general < 10 * 2**20
    all_receipts = settings.IAP_RECEIPTS_PER_CLAIM * settings.IAP_RECEIPT_MAX_BYTES
    assert all_receipts < claims <= all_receipts + 2 * 2**20
    # The claim forms' location matches the URLs that take receipts, and only them.
    pattern = re.search(r"location ~ (\^/\(measures[^ ]+) \{", site).group(1)
    for url in (reverse("claim_create", args=[7]), reverse("claim_update", args=[7])):
        assert re.match(pattern, url), url
        assert resolve(url).url_name in {"claim_create", "claim_update"}
    assert not re.match(pattern, reverse("claim_detail", args=[7]))
    assert f"location = {reverse('login')} {{" in site


def test_gunicorn_listens_where_nginx_looks():
    site = (DEPLOY / "nginx" / "iap-portal.conf").read_text()
    block = re.search(r"upstream iap_app \{(.*?)\}", site, re.S).group(1)
    upstream = re.search(r"^\s*server (\S+) ", block, re.M).group(1)
    conf = (DEPLOY / "gunicorn.conf.py").read_text()
    assert f'"GUNICORN_BIND", "{upstream}"' in conf
    assert f"GUNICORN_BIND={upstream}" in (DEPLOY / "iap.env.example").read_text()
    static_root = re.search(r"location /static/ \{\s*alias (\S+);", site).group(1)
    assert f"IAP_STATIC_ROOT={static_root.rstrip('/')}" in (DEPLOY / "iap.env.example").read_text()


def test_nginx_closes_idle_connections_to_gunicorn_before_gunicorn_does():
    """nginx keeps idle connections to gunicorn; gunicorn must keep them longer, or nginx sends
    a request on one that gunicorn is closing (a 502 under load)."""
    site = (DEPLOY / "nginx" / "iap-portal.conf").read_text()
    block = re.search(r"upstream iap_app \{(.*?)\}", site, re.S).group(1)
    assert re.search(r"^\s*keepalive \d+;", block, re.M)
    nginx_timeout = int(re.search(r"keepalive_timeout (\d+)s;", block).group(1))
    conf = (DEPLOY / "gunicorn.conf.py").read_text()
    gunicorn_keepalive = int(re.search(r"^keepalive = (\d+)$", conf, re.M).group(1))
    assert nginx_timeout < gunicorn_keepalive
    # Browsers reach gunicorn only through nginx: it listens on loopback.
    assert '"GUNICORN_BIND", "127.0.0.1:' in conf


def test_every_timer_starts_a_service_that_runs_existing_commands():
    commands = get_commands()
    timers = sorted(UNITS.glob("*.timer"))
    assert len(timers) >= 9
    for timer in timers:
        assert unit(timer.name).has_option("Timer", "OnCalendar"), timer.name
        service = timer.with_suffix(".service").name
        assert (UNITS / service).exists(), f"{timer.name} has no {service}"
        for line in exec_lines(service):
            if "manage.py" in line:
                command = line.split("manage.py", 1)[1].split()[0]
                assert command in commands, f"{service}: no command {command}"
            else:
                script = Path(line.split()[0].replace("/srv/iap-portal/app", str(ROOT)))
                assert script.exists(), f"{service}: {script} does not exist"


def test_the_retention_jobs_of_the_privacy_notice_all_have_a_timer():
    scheduled = " ".join(" ".join(exec_lines(p.name)) for p in UNITS.glob("*.service"))
    for command in (
        "start_plans",
        "warm_reports",
        "purge_files",
        "clearsessions",
        "anonymise_pupils",
        "axes_reset_logs --age 30",
        "axes_reset_failure_logs --age 30",
        "prune_db_task_results",
        "summarise_audit",
        "send_reminders",
        "db_worker",
    ):
        assert f"manage.py {command}" in scheduled, command
    assert "deploy/bin/iap-backup" in scheduled


def test_every_long_running_unit_reads_the_environment_file_and_runs_as_the_app_user():
    for path in sorted(UNITS.glob("*.service")):
        service = unit(path.name)["Service"]
        assert service["EnvironmentFile"] == "/etc/iap-portal/iap.env", path.name
        assert service["User"] == "iap" and service.get("NoNewPrivileges") == "yes", path.name
        for line in exec_lines(path.name):
            assert line.startswith("/srv/iap-portal/"), f"{path.name}: {line}"


def test_gunicorn_reloads_new_code_without_dropping_requests(monkeypatch):
    """`systemctl reload iap-gunicorn` (SIGHUP) is how a release goes live (iap-release): it
    loads the new code only when the application is not preloaded in the master."""
    import runpy

    monkeypatch.setenv("GUNICORN_BIND", "10.0.0.12:8001")
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["bind"] == ["10.0.0.12:8001"] and config["workers"] == 5
    assert config["worker_class"] == "gthread" and config["preload_app"] is False
    assert config["timeout"] < 75  # nginx's proxy_read_timeout: gunicorn ends a slow request
    unit_text = (UNITS / "iap-gunicorn.service").read_text()
    assert "ExecReload=/bin/kill -s HUP $MAINPID" in unit_text
    assert "reload-or-restart iap-gunicorn.service" in (DEPLOY / "bin" / "iap-release").read_text()
    # The access log leaves out the query string, where a search may carry a pupil's name.
    assert "%(U)s" in config["access_log_format"] and "%(q)s" not in config["access_log_format"]
    assert "%(r)s" not in config["access_log_format"]
