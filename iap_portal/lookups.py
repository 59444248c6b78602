"""``in`` on an integer column ignores values no such column can hold.

Django (5.0+) does this for ``exact``, ``gt``, ``gte``, ``lt`` and ``lte``, but not for ``in``:
a tampered id list (``claims=99999999999999999999``, a ``ModelMultipleChoiceField`` with such
a value) raised ``OverflowError`` on SQLite, a 500. A value out of range matches no row, so
dropping it changes no answer; with none left, the lookup matches nothing, as ``in ()`` does.
Both the plain lookup (``pk__in``) and the one across a relation (``student__in``) do so.
"""

from django.db.models import ForeignObject, IntegerField
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class InRangeOnly:
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            field = self.lhs.output_field
            field = getattr(field, "target_field", None) or field
            limits = connection.ops.integer_field_ranges.get(field.get_internal_type())
            if limits:
                low, high = limits
                self.rhs = [
                    value
                    for value in self.rhs
                    if not isinstance(value, int)
                    or ((low is None or value >= low) and (high is None or value <= high))
                ]
        return super().process_rhs(compiler, connection)


@IntegerField.register_lookup
class IntegerFieldIn(InRangeOnly, In):
    pass


@ForeignObject.register_lookup
class RelatedIntegerIn(InRangeOnly, RelatedIn):
    pass
