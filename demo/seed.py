"""The reference rows the data migrations create (specialist types, the risk catalogue).

``ensure_seed_data`` puts them back idempotently where a database lost them (a flushed test
database, a restore that skipped them)."""

import importlib

from django.apps import apps

SEED_MIGRATIONS = (
    ("students.migrations.0002_specialist_types", "create_types"),
    ("plans.migrations.0002_risk_catalogue", "create_catalogue"),
    ("early_warning.migrations.0002_risk_factors", "create_factors"),
)


def ensure_seed_data():
    for module, function in SEED_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
