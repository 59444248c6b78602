"""Payees: who a claim is paid to (the payees part of the payments issue)."""

from .models import ClaimPayee, Payee


def payee_for(claim) -> Payee | None:
    """The payee the claim is paid to: the one chosen for it, else the pupil's first guardian
    payee in use, else the adult pupil's own; None when the claim has none yet (it cannot be
    put into a batch until someone chooses)."""
    chosen = ClaimPayee.objects.filter(claim=claim).select_related("payee").first()
    if chosen is not None:
        return chosen.payee
    student_id = claim.plan.student_id
    own = Payee.objects.filter(student_id=student_id, is_active=True)
    return (
        own.filter(kind=Payee.Kind.GUARDIAN).order_by("pk").first()
        or own.filter(kind=Payee.Kind.PUPIL).order_by("pk").first()
    )
