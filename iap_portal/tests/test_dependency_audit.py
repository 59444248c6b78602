"""The offline dependency audit (scripts/audit-dependencies.py) that CI runs."""

import importlib.util
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit-dependencies.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def test_it_refuses_a_requirement_that_is_not_pinned(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("Django==5.2.8\nweasyprint>=60\nrequests\n# a comment\n")
    pins, problems = audit.read_pins(path)
    assert pins == {"django": Version("5.2.8")}
    assert len(problems) == 2 and "weasyprint" in problems[0] and "requests" in problems[1]


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


def test_the_locked_requirements_are_pinned_and_hit_no_recorded_advisory():
    pins, problems = audit.read_pins(ROOT / "requirements.txt")
    assert problems == []
    assert "django" in pins
    advisories = audit.read_table(ROOT / "security" / "advisories.txt", 4)
    assert advisories, "the advisory list is read"
    assert audit.advisory_hits(pins, advisories) == []
