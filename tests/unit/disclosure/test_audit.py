"""The independent audit's attacks on tiny hand-made systems (kvinnofrid.disclosure.audit):
two units pooling their numbers, and the intervals a unit reads with the marks."""

import numpy as np

from kvinnofrid.disclosure import audit

T = 5


def _class_of_three(values, class_total):
    """Three units' hidden counts (each marked below the threshold) and their published
    class total: A + B + C = class_total."""
    system = audit._System()
    cells = {
        u: system.unknown(float(v), u, audit.SMALL, ("r", "t", u, None, "c", "n"))
        for u, v in zip("ABC", values, strict=True)
    }
    system.eq.append((dict.fromkeys(cells.values(), 1.0), float(class_total)))
    return system, cells


def test_two_units_pooling_pin_what_neither_pins_alone():
    system, cells = _class_of_three((2, 2, 2), 6)
    found = audit._pair_findings(system, np.array([cells["A"]]), T, None)
    assert [(f["area"], f["attacker"], f["value"]) for f in found] == [("A", "B + C", 2)]
    solver = audit._Solver(system)
    low, high = audit._bounds(system, T, True, "B")  # B alone: A + C = 4, A anything from 0 to 4
    assert solver.interval(cells["A"], low, high) == (0.0, 4.0)


def test_no_pair_pins_a_count_a_fourth_unit_shares():
    system, cells = _class_of_three((2, 2, 2), 6)
    d = system.unknown(7.0, "D", audit.PROTECT, ("r", "t", "D", None, "c", "n"))
    system.eq[0][0][d] = 1.0
    system.eq[0] = (system.eq[0][0], 13.0)
    assert audit._pair_findings(system, np.array([cells["A"]]), T, None) == []


def test_a_unit_reading_the_marks_narrows_what_the_arithmetic_leaves_open():
    # A + B = 7, B marked below the threshold: B knows nothing more, yet A ≥ 3 from the
    # mark alone (fewer than T possible counts: the audit's unit_narrow)
    system = audit._System()
    a = system.unknown(3.0, "A", audit.SMALL, ("r", "t", "A", None, "c", "n"))
    b = system.unknown(4.0, "B", audit.SMALL, ("r", "t", "B", None, "c", "n"))
    system.eq.append(({a: 1.0, b: 1.0}, 7.0))
    solver = audit._Solver(system)
    assert solver.interval(a, *audit._bounds(system, T, True, None)) == (3.0, 4.0)
    assert solver.interval(a, *audit._bounds(system, T, False, None)) == (0.0, 7.0)
