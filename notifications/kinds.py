"""The kinds of notification: what each says (in the reader's language, from its stored
parameters) and how it is delivered unless the recipient chose otherwise.

The texts hold no personal data beyond the pupil's first name and the plan or claim code: an
e-mail leaves the instance. A returned plan's or claim's comment is shown in the portal only.
"""

import contextlib
from dataclasses import dataclass
from datetime import date

from django.db import models
from django.utils import dateformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", _("e-mail at once")
    DAILY = "daily", _("one e-mail a day (digest)")
    OFF = "off", _("in the portal only")


@dataclass(frozen=True)
class Kind:
    code: str
    label: object  # what the settings page calls it
    title: object  # the notification's sentence, formatted with its parameters
    reminder: bool = False  # a deadline reminder from `manage.py send_reminders`

    def text(self, params):
        values = dict(params)
        if "due" in values:
            with contextlib.suppress(ValueError):
                values["due"] = dateformat.format(date.fromisoformat(str(values["due"])), "j.m.Y")
        if "outcome" in values:
            values["outcome"] = OUTCOMES.get(values["outcome"], values["outcome"])
        try:
            sentence = str(self.title % values)
        except (KeyError, TypeError, ValueError):
            sentence = str(self.label)
        # The pupil by first name only, where the reader may know them (never above the school).
        pupil = values.get("pupil")
        return f"{pupil}: {sentence}" if pupil else sentence


OUTCOMES = {
    "approved": pgettext_lazy("claim outcome", "approved"),
    "rejected": pgettext_lazy("claim outcome", "rejected"),
    "paid": pgettext_lazy("payment outcome", "paid"),
    "refused": pgettext_lazy("payment outcome", "refused by the bank"),
}

_KINDS = [
    Kind(
        "plan_submitted",
        _("A plan waits for my approval"),
        _("Plan %(code)s was submitted and waits for your approval."),
    ),
    Kind(
        "plan_returned",
        _("My plan was returned"),
        _("Plan %(code)s was returned to you for correction."),
    ),
    Kind(
        "plan_approved",
        _("My plan was approved"),
        _("Plan %(code)s was approved."),
    ),
    Kind(
        "claim_submitted",
        _("A claim waits for my decision"),
        _("Compensation claim %(code)s was submitted and waits for your decision."),
    ),
    Kind(
        "claim_decided",
        _("My claim was decided"),
        _("Compensation claim %(code)s was %(outcome)s."),
    ),
    Kind(
        "claim_returned",
        _("My claim was returned"),
        _("Compensation claim %(code)s was returned to you for correction."),
    ),
    Kind(
        "payment",
        _("A payment was recorded or refused"),
        _("The payment of compensation claim %(code)s: %(outcome)s."),
    ),
    Kind(
        "measure_assigned",
        _("A support measure was assigned to me"),
        _("A support measure of plan %(code)s was assigned to you."),
    ),
    Kind(
        "pupils_flagged",
        _("An e-journal import flagged new pupils of my classes"),
        ngettext_lazy(
            "The e-journal import flagged %(count)s new pupil in your classes.",
            "The e-journal import flagged %(count)s new pupils in your classes.",
            "count",
        ),
    ),
    Kind(
        "plan_waiting",
        _("A plan has waited too long for my approval"),
        ngettext_lazy(
            "Plan %(code)s has waited %(days)s working day for your approval.",
            "Plan %(code)s has waited %(days)s working days for your approval.",
            "days",
        ),
        reminder=True,
    ),
    Kind(
        "plan_due",
        _("A plan of mine is past its due date"),
        _("Plan %(code)s was due for submission on %(due)s."),
        reminder=True,
    ),
    Kind(
        "evaluation_due",
        _("A plan of mine waits for its evaluation"),
        _("The semester of plan %(code)s ended on %(due)s: evaluate the plan."),
        reminder=True,
    ),
    Kind(
        "claim_waiting",
        _("A claim has waited too long for my decision"),
        ngettext_lazy(
            "Compensation claim %(code)s has waited %(days)s day for your decision.",
            "Compensation claim %(code)s has waited %(days)s days for your decision.",
            "days",
        ),
        reminder=True,
    ),
]

KINDS = {kind.code: kind for kind in _KINDS}
KIND_CHOICES = [(kind.code, kind.label) for kind in _KINDS]
