"""The suppression rules on hand-made systems (iap_portal/suppression.py); the generated reports
are in test_disclosure.py."""

from decimal import Decimal

from iap_portal.suppression import determined, protect


def test_a_small_count_is_hidden_and_so_is_its_partner():
    # A municipality of a school of 12 and a school of 1: 13 − 12 would give the 1 away.
    assert protect({"T": 13, "A": 12, "B": 1}, [("T", ["A", "B"])]) == {"A", "B"}


def test_zeroes_show_and_are_no_partner():
    values = {"T": 13, "A": 12, "B": 1}  # school C has nobody: a published zero
    assert protect(values, [("T", ["A", "B", "C"])]) == {"A", "B"}


def test_the_smallest_further_part_is_the_partner():
    values = {"T": 20, "A": 12, "B": 1, "C": 7}
    assert protect(values, [("T", ["A", "B", "C"])]) == {"B", "C"}


def test_a_lone_part_takes_its_total_with_it_and_the_total_a_partner():
    # A municipality whose only school has one pupil: its total is that pupil too; the
    # country's total then needs a second municipality hidden.
    values = {"all": 10, "M1": 1, "M2": 9, "s1": 1, "s2": 5, "s3": 4}
    relations = [("all", ["M1", "M2"]), ("M1", ["s1"]), ("M2", ["s2", "s3"])]
    hidden = protect(values, relations)
    assert {"M1", "s1", "M2"} <= hidden
    assert len(hidden & {"s2", "s3"}) >= 1 and not determined(hidden, relations)


def test_money_follows_its_rows_pupils_and_a_zero_is_no_protection():
    values = {
        "p1": 1,  # the one child's special transport
        "p2": 5,
        "p3": 4,
        "pall": 10,
        "e1": Decimal("432.10"),
        "e2": Decimal("100.00"),
        "e3": Decimal("0"),
        "eall": Decimal("532.10"),
    }
    relations = [("pall", ["p1", "p2", "p3"]), ("eall", ["e1", "e2", "e3"])]
    hidden = protect(values, relations, {"e1": "p1", "e2": "p2", "e3": "p3"})
    # p3 (4 pupils) partners p1's count, but its money is 0: p2's row goes too.
    assert {"p1", "e1", "p3", "e3", "p2", "e2"} == hidden


def test_the_exact_check_finds_what_two_relations_give_away():
    # Two unknowns in one relation, but the other relation has one of them alone.
    assert determined({"a", "b"}, [("T", ["a", "b"]), ("U", ["a", "c"])]) == {"a", "b"}
    assert determined({"a", "b", "c"}, [("T", ["a", "b"]), ("U", ["a", "c"])]) == set()


def test_a_bridge_between_two_hidden_rectangles_is_protected():
    """A 2-D table with margins: rows r1..r4, columns c1..c4. Two rectangles of hidden cells
    joined by one more hidden cell (a bridge): every row and column holds two hidden cells or
    more, which the simple rule accepts, but the bridge follows from the margins."""
    cells = {
        (r, c): v
        for (r, c), v in {
            (1, 1): 1,
            (1, 2): 5,
            (2, 1): 6,
            (2, 2): 1,
            (2, 3): 7,
            (3, 3): 1,
            (3, 4): 8,
            (4, 3): 9,
            (4, 4): 1,
        }.items()
    }
    values = {f"{r}{c}": v for (r, c), v in cells.items()}
    relations = []
    for r in range(1, 5):
        parts = [f"{r}{c}" for c in range(1, 5) if (r, c) in cells]
        values[f"R{r}"] = sum(cells[(r, c)] for c in range(1, 5) if (r, c) in cells)
        relations.append((f"R{r}", parts))
    for c in range(1, 5):
        parts = [f"{r}{c}" for r in range(1, 5) if (r, c) in cells]
        values[f"C{c}"] = sum(cells[(r, c)] for r in range(1, 5) if (r, c) in cells)
        relations.append((f"C{c}", parts))
    bridge = {"11", "12", "21", "22", "23", "33", "34", "43", "44"}
    assert "23" in determined(bridge, relations)
    hidden = protect(values, relations)
    assert not determined(hidden, relations)
    assert {"11", "22", "33", "44"} <= hidden
