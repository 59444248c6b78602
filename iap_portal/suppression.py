"""Which figures of the aggregate reports are hidden, so that no count of one or two pupils —
nor their money or hours — can be read or worked out from what is published.

Above school level (municipality and agency scopes) every figure of a report is one entry of a
*system*: a value under a key, the pupil count it belongs to (its *basis*: a count is its own
basis, a row's money and hours follow the row's pupil count), and the additive relations
between figures that a reader can use (a total is the sum of its parts: a municipality of its
schools, the country of its municipalities, a scope's pupils of its grades). ``protect`` decides
once, for every format and every scope of the same data, which keys are hidden:

1. **Primary suppression**: a figure whose basis counts 1 or 2 pupils.
2. **Secondary suppression** (the statistical offices' heuristic for frequency tables): in a
   relation with exactly one hidden non-zero member, the subtraction would give it away, so
   the smallest further non-zero part is hidden too (its whole row with it); where every other
   part is zero, the total is hidden instead. A hidden zero (a hidden row's empty column) does
   not count as a partner: "the rest is zero" is too easy a guess. Repeated until no relation
   has a single hidden non-zero member.
3. **An exact check** of what remains: a hidden figure is still given away when it follows from
   the published ones through several relations at once (the unit vector of its unknown lies in
   the row space of the relations, restricted to the hidden figures). Such a figure gets a
   further partner hidden, and the steps repeat. The check is Gaussian elimination over the
   integers modulo a 61-bit prime on each connected part of the system: exact for these 0/±1
   relations unless the prime divides a minor, which for matrices of this size does not happen.

Zeroes may show: a zero gives away nobody, and hidden figures are never zero unless they share
a hidden row.
"""

from collections import defaultdict

SMALL = 3  # a basis of 1 or 2 pupils is hidden
PRIME = (1 << 61) - 1


def protect(values, relations, bases=None):
    """The keys to hide.

    ``values``: {key: number} — every published figure (a key that is missing is a published
    zero, e.g. a row that is not shown). ``relations``: [(total_key, [part_keys])], meaning
    total = sum of parts. ``bases``: {key: basis_key} for figures that follow another figure's
    pupil count (money and hours follow their row's pupils); a figure without one is a count."""
    bases = bases or {}
    members = defaultdict(list)  # basis key -> the figures hidden with it
    for key in values:
        members[bases.get(key, key)].append(key)

    def pupils(key):
        return values.get(bases.get(key, key), 0)

    hidden = set()

    def hide(key):
        for member in members[bases.get(key, key)]:
            hidden.add(member)

    for key in values:
        if key not in bases and 0 < values[key] < SMALL:
            hide(key)

    # Only the figures that exist take part; a relation of zeroes is known without any figure.
    relations = [
        (total, [p for p in parts if p in values])
        for total, parts in relations
        if values.get(total, 0) != 0
    ]
    by_key = defaultdict(list)
    for index, (total, parts) in enumerate(relations):
        by_key[total].append(index)
        for part in parts:
            by_key[part].append(index)

    def order(key):
        return (pupils(key), abs(values[key]), repr(key))

    def partner(index):
        """The figure to hide beside a relation's hidden member(s): the smallest published
        non-zero part, else its total."""
        total, parts = relations[index]
        candidates = [p for p in parts if p not in hidden and values[p] != 0]
        if candidates:
            return min(candidates, key=order)
        if total not in hidden:
            return total
        return None

    while True:
        changed = True
        while changed:
            changed = False
            for index, (total, parts) in enumerate(relations):
                if sum(1 for k in (total, *parts) if k in hidden and values[k]) == 1:
                    chosen = partner(index)
                    if chosen is not None:
                        hide(chosen)
                        changed = True
        given_away = determined(hidden, relations, by_key)
        added = False
        for key in sorted(given_away, key=repr):
            # The relation of this figure with the fewest hidden members is the weakest.
            for index in sorted(
                by_key[key], key=lambda i: sum(1 for k in _all(relations[i]) if k in hidden)
            ):
                chosen = partner(index)
                if chosen is not None:
                    hide(chosen)
                    added = True
                    break
            if added:
                break  # one at a time: the next check sees its effect
        if not added:
            return hidden


def _all(relation):
    total, parts = relation
    return (total, *parts)


def determined(hidden, relations, by_key=None):
    """The hidden keys whose value follows exactly from the published figures."""
    rows = []
    for relation in relations:
        unknown = {}
        total, parts = relation
        if total in hidden:
            unknown[total] = 1
        for part in parts:
            if part in hidden:
                unknown[part] = (unknown.get(part, 0) - 1) % PRIME
        unknown = {k: v for k, v in unknown.items() if v}
        if unknown:
            rows.append(unknown)
    result = set()
    for component in _components(rows):
        result |= _determined_in(component)
    return result


def _components(rows):
    """The rows grouped by the unknowns they share (a union–find over the keys)."""
    parent = {}

    def find(key):
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for row in rows:
        keys = list(row)
        for other in keys[1:]:
            a, b = find(keys[0]), find(other)
            if a != b:
                parent[a] = b
    groups = defaultdict(list)
    for row in rows:
        groups[find(next(iter(row)))].append(row)
    return list(groups.values())


def _determined_in(rows):
    """Reduced row echelon form (modulo PRIME) of sparse rows; a key is determined when its
    pivot row has no other entry."""
    pivots = {}  # key -> row (dict) with 1 at key
    for row in rows:
        row = dict(row)
        for key, pivot_row in pivots.items():
            _subtract(row, pivot_row, row.get(key))
        if not row:
            continue
        key = min(row, key=repr)
        inverse = pow(row[key], PRIME - 2, PRIME)
        row = {k: v * inverse % PRIME for k, v in row.items()}
        for other in pivots.values():
            _subtract(other, row, other.get(key))
        pivots[key] = row
    return {key for key, row in pivots.items() if len(row) == 1}


def _subtract(row, pivot_row, factor):
    """row -= factor × pivot_row (modulo PRIME), in place, dropping the zeroes."""
    if not factor:
        return
    for k, v in pivot_row.items():
        value = (row.get(k, 0) - factor * v) % PRIME
        if value:
            row[k] = value
        else:
            row.pop(k, None)
