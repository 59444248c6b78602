"""What this app learns from the apps above it, without importing them (filled in their
``AppConfig.ready()``; docs/architecture.md)."""

from dataclasses import dataclass, field
from datetime import date

from iap_portal.registry import Registry


@dataclass
class Reminder:
    """A deadline passed: who is reminded of what (``manage.py send_reminders``)."""

    kind: str
    item: str
    url: str
    recipients: list
    params: dict = field(default_factory=dict)
    pupil_id: int | None = None


@dataclass
class LateItem:
    """Something late that waits for a user (the home page and the queues mark it)."""

    kind: str  # a notification kind: what the item is (notifications.kinds.KINDS)
    code: str
    url: str
    since: date  # the day it fell due
    params: dict = field(default_factory=dict)


# name -> function(today) giving the reminders due today (plans: plans due and evaluations due,
# plans waiting for an approver; compensations: claims waiting for a decision).
reminders = Registry("reminders")
# name -> function(user, today) giving the late items waiting for this user.
late_items = Registry("late_items")
