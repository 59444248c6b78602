"""The offline dependency audit (scripts/audit-dependencies.py) that CI runs."""

import importlib.util
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit-dependencies.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def test_it_refuses_a_requirement_that_is_not_pinned_or_not_hashed(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text(
        "Django==5.2.8 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\n"
        "    # via -r pyproject.toml\n"
        "weasyprint>=60 --hash=sha256:cccc\nrequests\n# a comment\npillow==13.0.0\n"
        "-r other.txt\n"
    )
    pins, problems = audit.read_pins(path)
    assert pins == {"django": Version("5.2.8"), "pillow": Version("13.0.0")}
    assert len(problems) == 4
    assert "weasyprint is not pinned" in problems[0] and "requests is not pinned" in problems[1]
    assert "pillow has no --hash" in problems[2] and "option '-r other.txt'" in problems[3]
    assert audit.read_pins(path, require_hashes=False)[1][2] == problems[3]


def test_the_runtime_pins_must_be_in_the_development_lock_at_the_same_version():
    runtime = {"django": Version("5.2.19"), "pypdf": Version("7.1.1")}
    assert audit.lock_mismatches(runtime, {**runtime, "pytest": Version("9.2.0")}) == []
    problems = audit.lock_mismatches(runtime, {"django": Version("5.2.18")})
    assert problems == [
        "django: requirements.txt locks 5.2.19, requirements-dev.txt locks 5.2.18",
        "pypdf: requirements.txt locks 7.1.1, requirements-dev.txt does not have it",
    ]


def test_a_direct_dependency_missing_from_the_lock_or_outside_its_range_fails():
    from packaging.requirements import Requirement

    direct = [Requirement("Django~=5.2.19"), Requirement("sepaxml~=2.7")]
    assert (
        audit.unlocked_direct(
            direct, {"django": Version("5.2.19"), "sepaxml": Version("2.7.0")}, "requirements.txt"
        )
        == []
    )
    problems = audit.unlocked_direct(direct, {"django": Version("5.3.0")}, "requirements.txt")
    assert "Django==5.3.0 in requirements.txt is outside" in problems[0]
    assert "sepaxml (~=2.7) is not in requirements.txt" in problems[1]


def test_the_virtualenv_must_hold_the_lock_and_nothing_else():
    pins = {"django": Version("5.2.19"), "gunicorn": Version("27.0.1")}
    installed = {
        "django": Version("5.2.19"),
        "gunicorn": Version("27.0.0"),
        "pip": Version("26.0"),
        "setuptools": Version("65.5.0"),
        "cyclonedx-python-lib": Version("11.12.0"),
    }
    assert audit.installed_mismatches(pins, installed, "requirements.txt") == [
        "gunicorn: locked 27.0.1, installed 27.0.0",
        "cyclonedx-python-lib==11.12.0 is installed but not in requirements.txt "
        "(remove it: pip uninstall cyclonedx-python-lib)",
    ]


def test_the_application_code_may_import_only_runtime_packages(tmp_path):
    app = tmp_path / "plans"
    (app / "tests").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "pdf.py").write_text("import json\nfrom weasyprint import HTML\nfrom . import x\n")
    (app / "demo.py").write_text("import factory.fuzzy\n")
    (app / "tests" / "test_it.py").write_text("import hypothesis\n")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "__init__.py").write_text("import playwright\n")
    (tmp_path / "settings.py").write_text("import ruff\n")  # not in a package
    distributions = {
        "weasyprint": ["weasyprint"],
        "factory": ["factory_boy"],
        "hypothesis": ["hypothesis"],
        "playwright": ["playwright"],
        "ruff": ["ruff"],
    }
    runtime = {"weasyprint": Version("70.0")}
    assert audit.runtime_import_problems(runtime, tmp_path, distributions) == [
        "plans/demo.py imports factory from factory-boy, which only requirements-dev.txt "
        "installs: add it to [project] dependencies"
    ]
    (app / "pdf.py").write_text("import nosuchthing\n")
    assert "plans/pdf.py imports nosuchthing, which no installed package provides" in (
        audit.runtime_import_problems(runtime, tmp_path, distributions)
    )


def test_settings_name_their_apps_and_backends_by_string():
    source = (
        'INSTALLED_APPS = ["django.contrib.admin", "crispy_forms"]\n'
        'MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]\n'
        'CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache"}}\n'
    )
    assert audit.imported_top_levels(source, settings=True) == {
        "django",
        "crispy_forms",
        "whitenoise",
        "django_redis",
    }
    assert audit.imported_top_levels(source) == set()


def test_it_flags_a_pin_inside_an_advisory_range():
    advisories = [
        ["django", ">=4.2,<4.2.1", "CVE-2023-31047", "upload bypass"],
        ["pillow", "<10.0.1", "CVE-2023-4863", "libwebp"],
    ]
    hits = audit.advisory_hits(
        {"django": Version("4.2.0"), "pillow": Version("13.0.0")}, advisories
    )
    assert hits == ["django==4.2.0 is affected by CVE-2023-31047: upload bypass"]
    assert audit.advisory_hits({"django": Version("4.2.1")}, advisories) == []


def test_it_fails_on_a_missed_patch_release_and_only_notes_a_new_line():
    pins = {"django": Version("5.2.1"), "openpyxl": Version("3.1.5"), "pillow": Version("12.0.0")}
    latest = {"django": Version("5.2.3"), "openpyxl": Version("3.1.5"), "pillow": Version("13.0.0")}
    failures, notes = audit.registry_lag(pins, latest, held_back={})
    assert failures == ["django==5.2.1: patch release 5.2.3 is available"]
    assert notes and "pillow==12.0.0" in notes[0]
    held, _ = audit.registry_lag(pins, latest, held_back={"django": "waits for a fix"})
    assert held == []


def test_both_locks_are_pinned_hashed_consistent_and_hit_no_recorded_advisory():
    runtime, problems = audit.read_pins(ROOT / "requirements.txt")
    dev, dev_problems = audit.read_pins(ROOT / "requirements-dev.txt")
    assert problems == [] and dev_problems == []
    assert "django" in runtime and "pytest" in dev and "pytest" not in runtime
    assert audit.lock_mismatches(runtime, dev) == []
    direct_runtime, direct_dev = audit.direct_dependencies(ROOT / "pyproject.toml")
    assert audit.unlocked_direct(direct_runtime, runtime, "requirements.txt") == []
    assert audit.unlocked_direct(direct_dev, dev, "requirements-dev.txt") == []
    advisories = audit.read_table(ROOT / "security" / "advisories.txt", 4)
    assert advisories, "the advisory list is read"
    assert audit.advisory_hits({**dev, **runtime}, advisories) == []


def test_a_production_server_installs_no_test_or_lint_tool():
    runtime, _ = audit.read_pins(ROOT / "requirements.txt")
    for tool in ("pytest", "playwright", "hypothesis", "ruff", "factory-boy", "faker", "uv"):
        assert tool not in runtime


def test_the_application_imports_only_what_requirements_txt_installs():
    runtime, _ = audit.read_pins(ROOT / "requirements.txt")
    assert audit.runtime_import_problems(runtime) == []
    scanned = {p.relative_to(ROOT).as_posix() for p in audit.application_modules()}
    assert (
        "iap_portal/settings.py" in scanned and "demo/management/commands/load_demo.py" in scanned
    )
    assert not any("/tests/" in p or p.startswith("bench/") for p in scanned)
