"""The backup procedure in the README: dump the demo database, restore it into an empty one,
and every table has the same number of rows."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command

from compensations.models import CompensationClaim
from iap_portal.actions import record_change
from iap_portal.models import ContentChange

EXCLUDE = [
    "contenttypes",
    "auth.permission",
    "sessions",
    "accounts.usersession",
    "admin.logentry",
]


def row_counts():
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in {"contenttypes", "sessions", "admin"}
        and model._meta.label not in {"auth.Permission", "accounts.UserSession"}
    }


# Really committed transactions: PostgreSQL refuses to flush tables with deferred constraint
# checks pending inside the usual test transaction.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_dump_restores_into_an_empty_database_with_every_count_equal(tmp_path, settings):
    call_command("load_demo", stdout=io.StringIO())
    claim = CompensationClaim.objects.order_by("pk").first()
    record_change(claim, by=claim.submitted_by, what=ContentChange.What.LINES)
    before = row_counts()
    assert before["plans.SupportPlan"] > 300 and before["compensations.CompensationClaim"] > 300
    dump = tmp_path / "backup.json"
    call_command(
        "dumpdata",
        "--natural-foreign",
        *[f"--exclude={e}" for e in EXCLUDE],
        output=str(dump),
        verbosity=0,
    )
    call_command("flush", interactive=False, verbosity=0)
    assert row_counts()["plans.SupportPlan"] == 0
    settings.SIMPLE_HISTORY_ENABLED = False  # IAP_HISTORY_ENABLED=0, as the README says
    call_command("loaddata", str(dump), verbosity=0)
    assert row_counts() == before
    # The content change still points at its claim (content types by natural key).
    assert ContentChange.objects.get().subject == CompensationClaim.objects.get(pk=claim.pk)
