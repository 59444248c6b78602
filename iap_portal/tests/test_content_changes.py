"""The four-eyes record of content changes is append-only, in the code and (on PostgreSQL)
in the database itself."""

import pytest
from django.db import DatabaseError, connection, transaction

from compensations.tests.factories import claimable_plan, draft_claim
from iap_portal.actions import record_change
from iap_portal.models import ContentChange


@pytest.fixture
def change(cast):
    claim = draft_claim(plan=claimable_plan(cast), by=cast.class_teacher)
    return record_change(claim, by=cast.social_pedagogue, what=ContentChange.What.LINES)


def test_a_content_change_cannot_be_changed_or_deleted(cast, change):
    change.by = cast.class_teacher
    with pytest.raises(PermissionError):
        change.save()
    with pytest.raises(PermissionError):
        change.delete()
    with pytest.raises(PermissionError):
        ContentChange.objects.filter(pk=change.pk).update(by=cast.class_teacher)
    with pytest.raises(PermissionError):
        ContentChange.objects.all().delete()
    assert ContentChange.objects.get(pk=change.pk).by == cast.social_pedagogue


def test_the_database_refuses_to_change_or_delete_a_content_change(cast, change):
    if connection.vendor != "postgresql":
        pytest.skip("the database-level guard is PostgreSQL's")
    for sql, params in (
        (
            "UPDATE iap_portal_contentchange SET by_id = %s WHERE id = %s",
            [cast.class_teacher.pk, change.pk],
        ),
        ("UPDATE iap_portal_contentchange SET at = now() WHERE id = %s", [change.pk]),
        ("DELETE FROM iap_portal_contentchange WHERE id = %s", [change.pk]),
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    assert ContentChange.objects.get(pk=change.pk).by == cast.social_pedagogue
