#!/usr/bin/env python3
"""Offline dependency audit of the locked requirements (what `pip-audit` would do, without
the vulnerability services this network cannot reach).

There are two lock files, both generated from pyproject.toml by `make lock`:
requirements.txt (what the application needs; a production server installs only it) and
requirements-dev.txt (the same pins plus the tests, lint and benchmark tools).

1. Every entry of both files is pinned (``name==version``) with at least one hash; the
   runtime pins appear in the development file at the same versions; every direct dependency
   in pyproject.toml is locked at a version its range admits (else: run `make lock`).
2. The virtualenv holds exactly the pins of one file (requirements-dev.txt unless
   ``--installed-from`` says otherwise), nothing more, so CI tests what is locked, and
   `pip check` is clean.
3. The application's own code (every package but the tests, the benchmark and the scripts)
   imports only the standard library, itself and packages in requirements.txt: nothing that
   only the development file installs.
4. No pin falls in a range listed in security/advisories.txt.
5. No pin is behind the newest patch release of its line in the package registry (security
   fixes ship as patch releases), unless security/held-back.txt says why. Newer minor or major
   releases are listed but do not fail.

Exit 0 when clean, 1 with the reasons otherwise. ``--offline`` skips step 5.
"""

import argparse
import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements.txt"
DEV_LOCK = ROOT / "requirements-dev.txt"
# The installer's own packages, in every virtualenv whatever the lock says.
INSTALLER = {"pip", "setuptools", "wheel"}
# Top-level directories that hold no application code: what only development runs.
NOT_RUNTIME = {"bench", "scripts", "security", "docs", "deploy", "static", "templates", "locale"}


def logical_lines(text):
    """(first line number, text) of each requirement, continuation lines joined."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        line = line.rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        if pending.strip():
            yield start, pending.strip()
        pending = ""
    if pending.strip():
        yield start, pending.strip()


def read_pins(path, require_hashes=True):
    """The pins of a lock file ({name: Version}) and what is wrong with its lines."""
    pins, problems = {}, []
    for number, line in logical_lines(Path(path).read_text()):
        words = line.split()
        hashes = [w for w in words if w.startswith("--hash=")]
        spec = " ".join(w for w in words if not w.startswith("--hash="))
        if spec.startswith("-"):
            problems.append(f"{path}:{number}: option {spec!r} in a lock file")
            continue
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            problems.append(f"{path}:{number}: cannot read {spec!r}")
            continue
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            problems.append(f"{path}:{number}: {req.name} is not pinned to one version")
            continue
        if require_hashes and not hashes:
            problems.append(f"{path}:{number}: {req.name} has no --hash (run `make lock`)")
        pins[canonicalize_name(req.name)] = Version(specs[0].version)
    return pins, problems


def lock_mismatches(runtime, dev):
    """Runtime pins that the development file lacks or pins at another version."""
    return [
        f"{name}: requirements.txt locks {version}, requirements-dev.txt "
        + (f"locks {dev[name]}" if name in dev else "does not have it")
        for name, version in sorted(runtime.items())
        if dev.get(name) != version
    ]


def direct_dependencies(pyproject):
    """The runtime and development direct dependencies that pyproject.toml names."""
    data = tomllib.loads(Path(pyproject).read_text())
    runtime = [Requirement(r) for r in data["project"].get("dependencies", [])]
    dev = [Requirement(r) for r in data.get("dependency-groups", {}).get("dev", [])]
    return runtime, dev


def unlocked_direct(requirements, pins, lock_name):
    """Direct dependencies the lock lacks, or pins at a version outside their range."""
    problems = []
    for req in requirements:
        version = pins.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name} ({req.specifier}) is not in {lock_name}: run `make lock`")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(
                f"{req.name}=={version} in {lock_name} is outside {req.specifier}: run `make lock`"
            )
    return problems


def installed_mismatches(pins, installed, lock_name):
    """Locked packages missing or at another version, and installed ones nothing locked."""
    problems = [
        f"{name}: locked {version}, installed {installed.get(name, 'nothing')}"
        for name, version in sorted(pins.items())
        if installed.get(name) != version
    ]
    problems += [
        f"{name}=={version} is installed but not in {lock_name} (remove it: pip uninstall {name})"
        for name, version in sorted(installed.items())
        if name not in pins and name not in INSTALLER
    ]
    return problems


def application_modules(root=ROOT):
    """The application's own Python files: every package but tests, benchmark and scripts."""
    for package in sorted(p for p in Path(root).iterdir() if (p / "__init__.py").exists()):
        if package.name in NOT_RUNTIME or package.name.startswith("."):
            continue
        for path in sorted(package.rglob("*.py")):
            parts = path.relative_to(root).parts
            if "tests" in parts or path.name == "conftest.py" or path.name.startswith("test_"):
                continue
            yield path


DOTTED = re.compile(r"^[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def imported_top_levels(source, settings=False):
    """Top-level module names a file imports; in settings, also the dotted paths it names
    (INSTALLED_APPS, MIDDLEWARE, backends) and the apps listed by bare name."""
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif settings and isinstance(node, ast.Assign):
            targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
            if targets & {"INSTALLED_APPS", "MIDDLEWARE"} and isinstance(node.value, ast.List):
                names.update(
                    e.value.split(".")[0]
                    for e in node.value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                )
        if (
            settings
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and DOTTED.match(node.value)
        ):
            names.add(node.value.split(".")[0])
    return names


def runtime_import_problems(runtime_pins, root=ROOT, distributions=None):
    """Imports in the application's code of packages that requirements.txt does not lock."""
    if distributions is None:
        distributions = importlib.metadata.packages_distributions()
    local = {p.name for p in Path(root).iterdir() if (p / "__init__.py").exists()}
    known = set(sys.stdlib_module_names) | local | {"__future__"}
    problems = {}
    for path in application_modules(root):
        names = imported_top_levels(path.read_text(), settings=path.name == "settings.py")
        for name in sorted(names - known):
            providers = {canonicalize_name(d) for d in distributions.get(name, [])}
            if not providers:
                # A settings string such as "iap.example.lv" only looks like a module.
                if path.name != "settings.py":
                    problems.setdefault(
                        name,
                        f"{path.relative_to(root)} imports {name}, "
                        "which no installed package provides",
                    )
                continue
            if not providers & set(runtime_pins):
                problems.setdefault(
                    name,
                    f"{path.relative_to(root)} imports {name} from {', '.join(sorted(providers))}, "
                    "which only requirements-dev.txt installs: add it to [project] dependencies",
                )
    return sorted(problems.values())


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
    parser.add_argument("--runtime", type=Path, default=RUNTIME_LOCK)
    parser.add_argument("--dev", type=Path, default=DEV_LOCK)
    parser.add_argument(
        "--installed-from",
        choices=["dev", "runtime"],
        default="dev",
        help="which lock the virtualenv was installed from (runtime on a production server)",
    )
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--offline", action="store_true", help="skip the registry check")
    args = parser.parse_args(argv)

    runtime, failures = read_pins(args.runtime)
    dev, dev_problems = read_pins(args.dev)
    failures += dev_problems
    failures += lock_mismatches(runtime, dev)
    direct_runtime, direct_dev = direct_dependencies(ROOT / "pyproject.toml")
    failures += unlocked_direct(direct_runtime, runtime, args.runtime.name)
    failures += unlocked_direct(direct_dev, dev, args.dev.name)

    installed_lock = dev if args.installed_from == "dev" else runtime
    lock_name = (args.dev if args.installed_from == "dev" else args.runtime).name
    failures += installed_mismatches(installed_lock, installed_versions(args.python), lock_name)
    check = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [args.python, "-m", "pip", "check", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
    )
    if check.returncode:
        failures.append("pip check: " + check.stdout.strip())
    if Path(args.python).resolve() == Path(sys.executable).resolve():
        failures += runtime_import_problems(runtime)

    everything = {**dev, **runtime}
    failures += advisory_hits(everything, read_table(ROOT / "security" / "advisories.txt", 4))
    notes = []
    if not args.offline:
        held = {
            canonicalize_name(n): why
            for n, why in read_table(ROOT / "security" / "held-back.txt", 2)
        }
        lag, notes = registry_lag(everything, newest_in_registry(args.python), held)
        failures += lag

    for note in notes:
        print(f"note: {note}")
    if failures:
        for failure in failures:
            print(f"FAIL: {failure}")
        return 1
    print(
        f"{len(runtime)} runtime and {len(dev) - len(runtime)} development packages audited: "
        "hashed, installed as locked, no known advisory, none behind a patch release."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
