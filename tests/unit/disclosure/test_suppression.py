"""Small-number protection: hand-made tables with known hidden cells, and a recovery
attack on random tables (the attacker solves the linear constraints of every published
number and must not pin down any hidden count below the threshold)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog
from support.attack import T, add, check_marked, check_secure, hidden, random_multi, random_single, table

from kvinnofrid.disclosure.suppression import (
    SuppressionError,
    infer_kind,
    subtract,
    suppress_complements,
    suppress_table,
)
from kvinnofrid.statistics.tables import TABLE_SCHEMA

# ---------------------------------------------------------------- hand-made tables


def test_nothing_small_nothing_hidden_and_schema_kept():
    t = table([(None, "A", 20, 35), (None, "B", 15, 35)])
    out = suppress_table(t)
    assert out.schema == TABLE_SCHEMA
    assert out.equals(t)


def test_a_zero_is_hidden_like_a_small_count():
    """The zero policy: "0 of 35" beside "100 %" says something of every case."""
    t = table([(None, "A", 20, 35), (None, "B", 15, 35), (None, "C", 0, 35)])
    out = suppress_complements({"U": t}, T, totals={}, reasons=True)["U"]
    assert hidden(out) == ["B", "C"]  # C = 0, then the smallest other: B
    assert out["hidden_reason"].to_list() == [None, "skyddar_annat", "under_troskel"]


def test_primary_and_secondary_in_single_choice_table():
    t = table([(None, "A", 20, 30), (None, "B", 7, 30), (None, "C", 3, 30)])
    out = suppress_table(t)
    # C = 3 primary; then C = 30 − 20 − 7 → hide the next smallest: B
    assert hidden(out) == ["B", "C"]
    assert out.filter(pl.col("suppressed")).select("n", "share", "ci_low", "ci_high").null_count().row(0) == (
        2,
        2,
        2,
        2,
    )
    assert out["denominator"].to_list() == [30] * 3


def test_two_small_cells_that_bound_each_other_need_a_third():
    # B + C = 30 − 23 = 7 with C < 5 gives B ≥ 3: the mark says 0–4, the arithmetic 3–4.
    # Hiding A (marked "dold", at least 5) lets B take every value of its mark again.
    t = table([(None, "A", 23, 30), (None, "B", 4, 30), (None, "C", 3, 30)])
    assert hidden(suppress_table(t)) == ["A", "B", "C"]
    # C + D = 4: each of C and D can be anything from 0 to 4, no third cell needed
    t = table([(None, "A", 20, 30), (None, "B", 6, 30), (None, "C", 2, 30), (None, "D", 2, 30)])
    assert hidden(suppress_table(t)) == ["C", "D"]


def test_the_marks_are_part_of_the_attack():
    """B + C = 8 and both marked below 5: each is 4, so a third cell is hidden."""
    t = table([(None, "A", 22, 30), (None, "B", 4, 30), (None, "C", 4, 30)])
    assert hidden(suppress_table(t)) == ["A", "B", "C"]


def test_small_denominator_hides_the_whole_group():
    t = table(
        [
            ("HRV", "Ja", 3, 4),
            ("HRV", "Nej", 1, 4),
            ("HRV", "Vet inte", 0, 4),
            ("Ej HRV", "Ja", 10, 26),
            ("Ej HRV", "Nej", 16, 26),
        ]
    )
    out = suppress_table(t)
    hrv = out.filter(pl.col("group") == "HRV")
    assert hrv["suppressed"].all() and hrv["n"].null_count() == 3 and hrv["denominator"].null_count() == 3
    assert not out.filter(pl.col("group") == "Ej HRV")["suppressed"].any()


def test_multi_choice_cells_are_independent_but_the_complement_counts():
    rows = [(None, "X", 28, 30), (None, "Y", 3, 30), (None, "Z", 12, 30), (None, "W", 0, 30), (None, "V", 30, 30)]
    out = suppress_table(table(rows), kind="multi")
    # Y = 3 and W = 0 primary; X = 28 of 30 → 2 did not get X, V = 30 of 30 → none did
    # not (rule c, zero too); Z stays
    assert hidden(out) == ["X", "Y", "W", "V"]
    assert infer_kind(table(rows)) == "multi"


def test_phases_rows_linked_through_the_registry():
    # diagram 1: Avslutade n = the N of the closed-case rows
    rows = [
        (None, "Aktualiserade", 30, 30),
        (None, "Fått insats", 25, 30),
        (None, "Avslutade", 27, 30),
        (None, "Angiven avslutsorsak", 20, 27),
        (None, "Måluppföljning", 18, 27),
        (None, "Genomfört brukarenkät", 9, 27),
    ]
    out = suppress_table(table(rows), kind="phases")
    # Avslutade: 30 − 27 = 3 open (rule c) → hidden, and so is the N = 27 of the
    # closed rows that equals it (else n = N of the next rows gives it away)
    assert "Avslutade" in hidden(out)
    closed_rows = out.filter(
        pl.col("category").is_in(["Angiven avslutsorsak", "Måluppföljning", "Genomfört brukarenkät"])
    )
    assert closed_rows["denominator"].null_count() == 3
    assert out.filter(pl.col("category") == "Aktualiserade")["n"].item() == 30


def test_means_hidden_below_threshold():
    t = table([(None, "Alla", 40, 40), (None, "HRV", 3, 3), (None, "65–74", 6, 6)], mean=[2.4, 3.3, 1.9])
    out = suppress_table(t, kind="means")
    assert hidden(out) == ["HRV"]
    assert out.filter(pl.col("category") == "HRV")["mean"].item() is None
    assert out.filter(pl.col("category") == "65–74")["mean"].item() == 1.9


def test_complements_national_unit_rest():
    national = table([(None, "A", 200, 290), (None, "B", 80, 290), (None, "C", 10, 290)])
    unit = table([(None, "A", 20, 30), (None, "B", 7, 30), (None, "C", 3, 30)])
    rest = subtract(national, unit)
    assert rest["n"].to_list() == [180, 73, 7]
    out = suppress_complements({"Riket": national, "Enhet": unit, "Övriga": rest}, T, exempt={"Riket"})
    assert out["Riket"].equals(national)
    assert hidden(out["Enhet"]) == ["B", "C"]
    # unit C hidden → Övriga C = 10 − C would give it away: hidden too, and again B
    assert hidden(out["Övriga"]) == ["B", "C"]


def test_suppress_table_with_national_protects_the_rest():
    # the rest of the country has 2 cases of C: the unit's 8 would give them away
    national = table([(None, "A", 200, 290), (None, "B", 80, 290), (None, "C", 10, 290)])
    unit = table([(None, "A", 20, 36), (None, "B", 8, 36), (None, "C", 8, 36)])
    assert hidden(suppress_table(unit)) == []
    assert hidden(suppress_table(unit, national=national)) == ["B", "C"]


def test_region_of_two_units():
    u1 = table([(None, "A", 15, 30), (None, "B", 10, 30), (None, "C", 5, 30)])
    u2 = table([(None, "A", 12, 20), (None, "B", 6, 20), (None, "C", 2, 20)])
    region = table([(None, "A", 27, 50), (None, "B", 16, 50), (None, "C", 7, 50)])
    out = suppress_complements({"Region": region, "U1": u1, "U2": u2}, T)
    # C = 2 must be able to reach 4: B, marked "dold" (at least 5), gives up only 1 of
    # its 6, so A is hidden too
    assert hidden(out["U2"]) == ["A", "B", "C"]
    # region C = U1 + U2: with U1 shown, U2's C would be region − U1
    assert "C" in hidden(out["Region"]) or "C" in hidden(out["U1"])
    check_secure(out, {"Region": region, "U1": u1, "U2": u2}, {"Region": ["U1", "U2"]}, "single")


def test_exempt_everywhere_is_an_error():
    u = table([(None, "A", 3, 10), (None, "B", 7, 10)])
    with pytest.raises(SuppressionError):
        suppress_complements({"Tot": u, "U": u, "R": subtract(u, u)}, T, exempt={"Tot", "R"})


def test_deterministic():
    t = table([(None, "A", 9, 30), (None, "B", 9, 30), (None, "C", 9, 30), (None, "D", 3, 30)])
    assert suppress_table(t).equals(suppress_table(t))
    assert hidden(suppress_table(t)) == ["A", "D"]  # ties: the first in order


# ---------------------------------------------------------------- the recovery attack


@pytest.mark.parametrize("kind", ["single", "multi"])
@pytest.mark.parametrize("seed", range(25))
def test_recovery_attack_national_unit_rest(seed, kind):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    groups = [None] if rng.random() < 0.5 else ["G1", "G2"]
    make = random_single if kind == "single" else random_multi
    unit = make(rng, k, groups, int(rng.integers(2, 12)))
    rest = make(rng, k, groups, int(rng.integers(2, 30)))
    national = add(unit, rest)
    truth = {"Riket": national, "Enhet": unit, "Övriga": rest}
    out = suppress_complements(truth, T, exempt={"Riket"}, kinds=kind)
    totals = {"Riket": ["Enhet", "Övriga"]}
    check_marked(out, truth, {"Riket"}, kind)
    check_secure(out, truth, totals, kind)
    # the published form of suppress_table(national=…): the unit beside the national
    # table, the rest derivable but not published
    alone = suppress_table(unit, T, national=national, kind=kind)
    assert alone.equals(out["Enhet"])


@pytest.mark.parametrize("seed", range(25))
def test_recovery_attack_national_region_units(seed):
    """National (exempt) = region + others; region = three units; all published."""
    rng = np.random.default_rng(1000 + seed)
    k = int(rng.integers(2, 5))
    groups = [None]
    units = [random_single(rng, k, groups, int(rng.integers(1, 8))) for _ in range(3)]
    others = random_single(rng, k, groups, 40)
    region = add(add(units[0], units[1]), units[2])
    national = add(region, others)
    truth = {"Riket": national, "Region": region, "Övriga": others, "U1": units[0], "U2": units[1], "U3": units[2]}
    totals = {"Riket": ["Region", "Övriga"], "Region": ["U1", "U2", "U3"]}
    out = suppress_complements(truth, T, totals=totals, exempt={"Riket"}, kinds="single")
    check_marked(out, truth, {"Riket"}, "single")
    check_secure(out, truth, totals, "single")


def test_rows_must_match_the_national_table():
    national = table([(None, "A", 200, 290), (None, "B", 90, 290)])
    unit = table([(None, "A", 20, 30), (None, "C", 10, 30)])
    with pytest.raises(ValueError, match="samma rader"):
        suppress_table(unit, national=national)


# diagram 1: rows (label, base) — n of all cases or n of the closed cases
PHASES = [
    ("Aktualiserade", "all"),
    ("Fått insats", "all"),
    ("Avslutade", "all"),
    ("Angiven avslutsorsak", "closed"),
    ("Måluppföljning", "closed"),
    ("Genomfört brukarenkät", "closed"),
]


def random_phases(rng, scale: int) -> pl.DataFrame:
    total = int(rng.integers(0, scale))
    closed = int(rng.binomial(total, rng.uniform(0.3, 1)))
    n = [
        total,
        int(rng.binomial(total, rng.uniform(0.5, 1))),
        closed,
        int(rng.binomial(closed, rng.uniform(0.6, 1))),
        int(rng.binomial(closed, rng.uniform(0.5, 1))),
        int(rng.binomial(closed, rng.uniform(0, 0.6))),
    ]
    return table([(None, label, n[i], total if base == "all" else closed) for i, (label, base) in enumerate(PHASES)])


def attack_phases(published, truth, totals):
    """The attacker knows diagram 1's structure: Aktualiserade n = N of the all-case
    rows, Avslutade n = N of the closed-case rows, 0 ≤ n ≤ N, areas add up."""
    unknown, known = {}, {}

    def var(area, what):  # what: ("n", row) or ("all",) / ("closed",)
        return (area, *what)

    for area, t in published.items():
        n, d = t["n"].to_list(), t["denominator"].to_list()
        for r in range(len(PHASES)):
            key = var(area, ("n", r))
            (known.__setitem__(key, n[r]) if n[r] is not None else unknown.setdefault(key, len(unknown)))
        for base, _r in (("all", 0), ("closed", 3)):
            values = [d[i] for i, (_, b) in enumerate(PHASES) if b == base]
            key = var(area, (base,))
            if any(v is not None for v in values):
                known[key] = next(v for v in values if v is not None)
            else:
                unknown.setdefault(key, len(unknown))

    def linear(terms):
        row, const = np.zeros(len(unknown)), 0.0
        for coef, key in terms:
            if key in unknown:
                row[unknown[key]] += coef
            else:
                const += coef * known[key]
        return row, const

    eq, ub = [], []
    for area in published:
        eq.append(linear([(1.0, var(area, ("n", 0))), (-1.0, var(area, ("all",)))]))
        eq.append(linear([(1.0, var(area, ("n", 2))), (-1.0, var(area, ("closed",)))]))
        for r, (_, base) in enumerate(PHASES):
            ub.append(linear([(1.0, var(area, ("n", r))), (-1.0, var(area, (base,)))]))
    for total, parts in totals.items():
        for what in [("n", r) for r in range(len(PHASES))] + [("all",), ("closed",)]:
            eq.append(linear([(1.0, var(total, what))] + [(-1.0, var(p, what)) for p in parts]))

    def pack(rows):
        rows = [(a, c) for a, c in rows if a.any() or abs(c) > 1e-9]
        return (np.array([a for a, _ in rows]), np.array([-c for _, c in rows])) if rows else (None, None)

    a_eq, b_eq = pack(eq)
    a_ub, b_ub = pack(ub)

    def bounds(terms):
        c, const = linear(terms)
        if not c.any():
            return const, const
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        assert lo.status == 0 and hi.status in (0, 3)
        return const + lo.fun, (const - hi.fun) if hi.status == 0 else np.inf

    out = []
    for area, t in truth.items():
        n, d = t["n"].to_list(), t["denominator"].to_list()
        for r, (_, base) in enumerate(PHASES):
            n_key, d_key = var(area, ("n", r)), var(area, (base,))
            if n_key in unknown and 0 < n[r] < T:
                out.append((area, f"n{r}", n[r], *bounds([(1.0, n_key)])))
            if 0 < d[r] - n[r] < T and (n_key in unknown or d_key in unknown):
                out.append((area, f"N−n{r}", d[r] - n[r], *bounds([(1.0, d_key), (-1.0, n_key)])))
            if d_key in unknown and 0 < d[r] < T:
                out.append((area, f"N{r}", d[r], *bounds([(1.0, d_key)])))
    return out


@pytest.mark.parametrize("seed", range(25))
def test_recovery_attack_diagram_1(seed):
    rng = np.random.default_rng(5000 + seed)
    unit = random_phases(rng, int(rng.integers(1, 40)))
    rest = random_phases(rng, int(rng.integers(1, 60)))
    national = add(unit, rest)
    truth = {"Riket": national, "Enhet": unit, "Övriga": rest}
    totals = {"Riket": ["Enhet", "Övriga"]}
    out = suppress_complements(truth, T, exempt={"Riket"}, kinds="phases")
    for area, cell, value, low, high in attack_phases(out, truth, totals):
        assert high - low >= 1 - 1e-6, f"{area} {cell} = {value} recovered: [{low}, {high}]"
    alone = suppress_table(unit, T, national=national, kind="phases")
    for _area, cell, value, low, high in attack_phases({"Enhet": alone}, {"Enhet": unit}, {}):
        assert high - low >= 1 - 1e-6, f"alone: {cell} = {value} recovered: [{low}, {high}]"


def test_a_unit_that_knows_its_own_numbers_cannot_solve_a_row_and_zeros_are_hidden():
    """Owners: with two hidden unit cells in a row of the country, each of the two units
    would read the other's off the country's total; a third is hidden. A zero is a
    small count too (the zero policy), and every hidden cell says why."""
    units = {
        "U1": table([(None, "A", 20, 22), (None, "B", 2, 22)]),
        "U2": table([(None, "A", 30, 40), (None, "B", 10, 40)]),
        "U3": table([(None, "A", 25, 37), (None, "B", 12, 37)]),
        "U4": table([(None, "A", 40, 40), (None, "B", 0, 40)]),
    }
    country = units["U1"]
    for name in ("U2", "U3", "U4"):
        country = add(country, units[name])
    truth = {"Riket": country, **units}
    out = suppress_complements(truth, T, exempt={"Riket"}, kinds="single", owners={u: u for u in units}, reasons=True)
    hidden_b = [u for u in units if out[u].filter(pl.col("category") == "B")["n"].is_null().item()]
    assert "U4" in hidden_b and "U1" in hidden_b  # the zero and the 2
    assert len(hidden_b) >= 3
    reasons = {u: out[u].filter(pl.col("category") == "B")["hidden_reason"].item() for u in hidden_b}
    assert reasons["U1"] == reasons["U4"] == "under_troskel"
    assert all(r == "skyddar_annat" for u, r in reasons.items() if u not in ("U1", "U4"))
