"""Small-number protection of many areas at once (the unit reports' problem: country
and size classes published as they are, units and län protected): the attacker's
programme solved block by block gives the same protection as the joint programme."""

from __future__ import annotations

from support.attack import (
    T,
    add,
    check_secure,
    hidden,
    table,
)

from kvinnofrid.disclosure.suppression import suppress_complements


def test_block_split_gives_the_same_protection_as_the_joint_problem():
    """Two size classes share nothing but the (exempt) country: protecting them in one
    problem hides exactly what protecting each class alone hides."""
    u = {
        "U1": table([(None, "A", 20, 30), (None, "B", 7, 30), (None, "C", 3, 30)]),
        "U2": table([(None, "A", 12, 21), (None, "B", 8, 21), (None, "C", 1, 21)]),
        "U3": table([(None, "A", 9, 19), (None, "B", 6, 19), (None, "C", 4, 19)]),
        "U4": table([(None, "A", 30, 40), (None, "B", 10, 40), (None, "C", 0, 40)]),
    }
    k1, k2 = add(u["U1"], u["U2"]), add(u["U3"], u["U4"])
    country = add(k1, k2)
    joint = {"Riket": country, "K1": k1, "K2": k2, **u}
    totals = {"Riket": ["U1", "U2", "U3", "U4"], "K1": ["U1", "U2"], "K2": ["U3", "U4"]}
    exempt = {"Riket", "K1", "K2"}
    together = suppress_complements(joint, T, totals=totals, exempt=exempt, kinds="single")
    first = suppress_complements({"K1": k1, "U1": u["U1"], "U2": u["U2"]}, T, exempt={"K1"}, kinds="single")
    second = suppress_complements({"K2": k2, "U3": u["U3"], "U4": u["U4"]}, T, exempt={"K2"}, kinds="single")
    for name in u:
        alone = first[name] if name in first else second[name]
        assert together[name].equals(alone), name
        assert hidden(together[name]), name  # every unit has a small count
    check_secure(together, joint, totals, "single")
