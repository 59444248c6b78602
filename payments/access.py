"""Who sees which payment batches, and who builds and who pays them (built on
``students.access``).

- The school's coordinator builds the school's batches (every status).
- The payer pays a sent batch: the municipality's accountant (``municipal_accountant`` over the
  batch's municipality) when the municipality pays, the school's coordinator when the school
  pays itself. The payer sees payees, IBANs in full, amounts, claim codes and categories —
  nothing of the pupils' risks, plans or other data.

Outside one's scope is a 404; in scope but not for this person a 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from students.access import get_access
from students.models import Payer, Role

from .models import BatchLine, BatchStatus, LineOutcome, PaymentBatch

BATCH_ROLES = (Role.COORDINATOR, Role.MUNICIPAL_ACCOUNTANT)


def accountant_municipality_ids(user) -> set:
    access = get_access(user)
    return {m.municipality_id for m in access.memberships if m.role == Role.MUNICIPAL_ACCOUNTANT}


def paid_batches(user):
    """The sent (and settled) batches this user pays."""
    municipalities = accountant_municipality_ids(user)
    schools = get_access(user).coordinated_school_ids
    return PaymentBatch.objects.filter(
        Q(payer=Payer.MUNICIPALITY, municipality_id__in=municipalities)
        | Q(payer=Payer.SCHOOL, school_id__in=schools),
        status__in=BatchStatus.LOCKED,
    )


def built_batches(user):
    """The batches of the schools this user coordinates."""
    return PaymentBatch.objects.filter(school_id__in=get_access(user).coordinated_school_ids)


def visible_batches(user):
    return built_batches(user) | paid_batches(user)


def builds_batch(user, batch) -> bool:
    return batch.school_id in get_access(user).coordinated_school_ids


def pays_batch(user, batch) -> bool:
    """The payer of the batch, once it is sent."""
    if batch.status not in BatchStatus.LOCKED:
        return False
    if batch.payer == Payer.MUNICIPALITY:
        return batch.municipality_id in accountant_municipality_ids(user)
    return batch.school_id in get_access(user).coordinated_school_ids


def get_batch_or_404(user, pk, *, for_build=False, for_pay=False):
    batch = visible_batches(user).filter(pk=pk).select_related("school__municipality").first()
    if batch is None:
        raise Http404
    if for_build and not builds_batch(user, batch):
        raise PermissionDenied
    if for_pay and not pays_batch(user, batch):
        raise PermissionDenied
    return batch


def require_batch_roles(user, *roles):
    if not get_access(user).has_role(*(roles or BATCH_ROLES)):
        raise PermissionDenied


def is_payer(user) -> bool:
    """Whether this user pays any school's batches (an accountant, or a coordinator of a
    school that pays itself)."""
    access = get_access(user)
    if access.has_role(Role.MUNICIPAL_ACCOUNTANT):
        return True
    return any(
        m.role == Role.COORDINATOR and m.school.payer == Payer.SCHOOL for m in access.memberships
    )


def records_payment_of(user, claim) -> bool:
    """compensations.hooks.records_payment_of: the claim waits in a sent batch this user
    pays."""
    line = (
        BatchLine.objects.filter(
            claim_id=claim.pk, outcome=LineOutcome.PENDING, batch__status=BatchStatus.SENT
        )
        .select_related("batch")
        .first()
    )
    return line is not None and pays_batch(user, line.batch)


def unbatched_scope(user):
    """The schools whose approved claims this user follows on the "not yet batched" list: the
    coordinated schools, and the schools of the accountant's municipalities that it pays."""
    access = get_access(user)
    return Q(school_id__in=access.coordinated_school_ids) | Q(
        school__municipality_id__in=accountant_municipality_ids(user),
        school__payer=Payer.MUNICIPALITY,
    )
