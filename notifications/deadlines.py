"""Late items across the apps, for one user: what the home page can show as "late"."""

from django.utils import timezone

from .hooks import LateItem, late_items
from .kinds import KINDS


def late_items_for(user, today=None) -> list[LateItem]:
    """Everything late that waits for this user (plans due or to evaluate, plans waiting for
    their approval, claims waiting for their decision), the longest late first. Each item has
    ``kind``, ``code``, ``url``, ``since`` and ``text`` (in the current language)."""
    today = today or timezone.localdate()
    items = []
    for _name, source in late_items.items():
        items.extend(source(user, today))
    for item in items:
        item.text = KINDS[item.kind].text({"code": item.code, **item.params})
    return sorted(items, key=lambda item: (item.since, item.code))
