"""The reference rows the data migrations create (specialist types, the risk catalogue).

``ensure_seed_data`` puts them back idempotently where a database lost them (a flushed test
database, a restore that skipped them)."""

import importlib

from django.apps import apps

SEED_MIGRATIONS = (
    ("students.migrations.0002_specialist_types", "create_types"),
    # The risk types and the national catalogue, by code (the factors of plans' 0002 and
    # early_warning's 0002): a factor renamed since keeps its code and is not made again.
    ("plans.migrations.0006_risk_factor_versions", "create_national_catalogue"),
    # Their English names (issue 21).
    ("students.migrations.0010_specialist_type_english_names", "fill_english_names"),
    ("plans.migrations.0011_catalogue_english_names", "fill_english_names"),
)


def ensure_seed_data():
    for module, function in SEED_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
