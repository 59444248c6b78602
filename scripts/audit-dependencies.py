#!/usr/bin/env python3
"""Offline dependency audit of the locked requirements (what `pip-audit` would do, without
the vulnerability services this network cannot reach).

1. Every line of requirements.txt is pinned (``name==version``) and the virtualenv holds
   exactly those versions (so CI tests what production installs), and `pip check` is clean.
2. No pin falls in a range listed in security/advisories.txt.
3. No pin is behind the newest patch release of its line in the package registry (security
   fixes ship as patch releases), unless security/held-back.txt says why. Newer minor or major
   releases are listed but do not fail.

Exit 0 when clean, 1 with the reasons otherwise. ``--offline`` skips step 3.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent


def read_pins(path):
    pins, problems = {}, []
    for number, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            problems.append(f"{path}:{number}: cannot read {raw!r}")
            continue
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            problems.append(f"{path}:{number}: {req.name} is not pinned to one version")
            continue
        pins[canonicalize_name(req.name)] = Version(specs[0].version)
    return pins, problems


def read_table(path, columns):
    rows = []
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            parts = line.split(None, columns - 1)
            rows.append(parts + [""] * (columns - len(parts)))
    return rows


def advisory_hits(pins, advisories):
    hits = []
    for package, spec, advisory, summary in advisories:
        version = pins.get(canonicalize_name(package))
        if version is not None and SpecifierSet(spec).contains(version, prereleases=True):
            hits.append(f"{package}=={version} is affected by {advisory}: {summary}")
    return hits


def same_line(a: Version, b: Version) -> bool:
    return a.release[:2] == b.release[:2]


def registry_lag(pins, latest, held_back):
    """Pins behind the newest patch release of their line (fail) and other newer releases."""
    failures, notes = [], []
    for name, newest in sorted(latest.items()):
        pinned = pins.get(name)
        if pinned is None or newest <= pinned:
            continue
        if same_line(pinned, newest) and name not in held_back:
            failures.append(f"{name}=={pinned}: patch release {newest} is available")
        else:
            reason = held_back.get(name, "a newer line; upgrade deliberately")
            notes.append(f"{name}=={pinned}: {newest} available ({reason})")
    return failures, notes


def installed_versions(python):
    out = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {canonicalize_name(p["name"]): Version(p["version"]) for p in json.loads(out)}


def newest_in_registry(python):
    out = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [python, "-m", "pip", "list", "--outdated", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latest = {}
    for p in json.loads(out):
        try:
            latest[canonicalize_name(p["name"])] = Version(p["latest_version"])
        except InvalidVersion:
            continue
    return latest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", default=ROOT / "requirements.txt")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--offline", action="store_true", help="skip the registry check")
    args = parser.parse_args(argv)

    pins, failures = read_pins(args.requirements)
    installed = installed_versions(args.python)
    for name, version in sorted(pins.items()):
        if installed.get(name) != version:
            failures.append(f"{name}: locked {version}, installed {installed.get(name, 'nothing')}")
    check = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [args.python, "-m", "pip", "check", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
    )
    if check.returncode:
        failures.append("pip check: " + check.stdout.strip())

    failures += advisory_hits(pins, read_table(ROOT / "security" / "advisories.txt", 4))
    notes = []
    if not args.offline:
        held = {
            canonicalize_name(n): why
            for n, why in read_table(ROOT / "security" / "held-back.txt", 2)
        }
        lag, notes = registry_lag(pins, newest_in_registry(args.python), held)
        failures += lag

    for note in notes:
        print(f"note: {note}")
    if failures:
        for failure in failures:
            print(f"FAIL: {failure}")
        return 1
    print(f"{len(pins)} locked packages audited: no known advisory, none behind a patch release.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
