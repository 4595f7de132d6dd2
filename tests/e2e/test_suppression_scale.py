"""Small-number protection at scale: sixty units in size classes and län, protected and
attacked (the block split on small problems is in tests/unit/disclosure/)."""

from __future__ import annotations

import numpy as np
import pytest
from support.attack import (
    T,
    add,
    check_marked,
    check_secure,
    random_single,
)

from kvinnofrid.disclosure.suppression import suppress_complements


@pytest.mark.e2e
def test_sixty_units_in_classes_and_lan():
    """Long tier: the suppression takes a fraction of a second, the test's own attacker
        (two programmes per hidden small count over every number) about a minute.
    The unit reports' structure at a moderate scale: 60 small units in 3 size classes
        and 6 län (each across classes), country and classes exempt. Every small count is
        hidden and the recovery attack finds none of them; a repeat gives the same tables."""
    rng = np.random.default_rng(60)
    units = {f"U{i:02d}": random_single(rng, 4, [None, "G"], int(rng.integers(1, 12))) for i in range(60)}
    names = list(units)
    classes = {f"K{c}": names[c::3] for c in range(3)}
    lans = {f"L{j}": names[10 * j : 10 * j + 10] for j in range(6)}

    def total(parts):
        out = units[parts[0]]
        for p in parts[1:]:
            out = add(out, units[p])
        return out

    truth = {
        "Riket": total(names),
        **{k: total(v) for k, v in classes.items()},
        **{k: total(v) for k, v in lans.items()},
        **units,
    }
    totals = {"Riket": names, **classes, **lans}
    exempt = {"Riket", *classes}
    out = suppress_complements(truth, T, totals=totals, exempt=exempt, kinds="single")
    check_marked(out, truth, exempt, "single")
    check_secure(out, truth, totals, "single")
    again = suppress_complements(truth, T, totals=totals, exempt=exempt, kinds="single")
    assert all(again[a].equals(out[a]) for a in out)
