"""Two batches built at the same moment never share a claim: the claim's row is locked while it
is added, and the database refuses a second live line (PostgreSQL: real overlapping
transactions, ``conftest.overlapping``)."""

import pytest
from django.db import connection
from django.utils import timezone

from compensations import services as claim_services
from compensations.models import CompensationClaim
from compensations.tests.factories import claimable_plan, submitted_claim
from conftest import overlapping
from payments import services
from payments.models import BatchLine, PaymentBatch
from payments.tests.batch_factories import guardian_payee
from students.models import Payer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def cast(cast_tx):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers")
    return cast_tx


def test_two_batches_built_at_once_never_share_a_claim(cast):
    plan = claimable_plan(cast, planned="300.00")
    guardian_payee(cast.student, by=cast.coordinator)
    claims = []
    for amount in ("30.00", "20.00"):
        claim = submitted_claim(plan=plan, by=cast.class_teacher, amount=amount)
        claim_services.approve_claim(claim=claim, by=cast.social_pedagogue)
        claims.append(CompensationClaim.objects.get(pk=claim.pk))
    month = timezone.localdate().replace(day=1)
    first = services.create_batch(school=cast.school, month=month, by=cast.coordinator)
    # A second open batch of the month (for the other payer: the school changed its setting).
    second = PaymentBatch.objects.create(
        school=cast.school,
        payer=Payer.SCHOOL,
        municipality=cast.school.municipality,
        month=month,
        sequence=first.sequence + 1,
        code="MS-second",
        created_by=cast.coordinator,
    )
    one, other = overlapping(
        lambda: services.add_claims(batch=first, claims=claims, by=cast.coordinator),
        lambda: services.add_claims(
            batch=second, claims=list(reversed(claims)), by=cast.coordinator
        ),
        refused=services.BatchError,
    )
    assert len(one.lines) == 2 and not one.refused
    assert not other.lines and len(other.refused) == 2
    for claim in claims:
        assert BatchLine.objects.filter(claim=claim).count() == 1
    assert PaymentBatch.objects.get(pk=second.pk).total == 0
