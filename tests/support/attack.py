"""The recovery attack on published tables (the attacker solves the linear constraints
of every published number and must not pin down any hidden count below the
threshold), random tables to attack, and the checks built on it."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.optimize import linprog

from kvinnofrid.statistics.tables import finish_table

T = 5


def table(rows, mean=None) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows, schema={"group": pl.String, "category": pl.String, "n": pl.Int64, "denominator": pl.Int64}, orient="row"
    )
    out = finish_table(frame)
    if mean is not None:
        out = out.with_columns(pl.Series("mean", mean, dtype=pl.Float64), pl.lit(None, pl.Float64).alias("share"))
    return out


def hidden(t: pl.DataFrame) -> list[str]:
    return t.filter(pl.col("suppressed"))["category"].to_list()


def attack(
    published: dict[str, pl.DataFrame], truth: dict[str, pl.DataFrame], totals: dict[str, list[str]], kind: str
) -> list[tuple[str, str, int, float, float]]:
    """Everything an attacker can derive: unknowns = the empty n and N cells; the
    constraints N = Σ n (single-choice) or n ≤ N and Σ n ≥ N (multi), total = Σ parts
    for every n and N, x ≥ 0. Returns (area, cell, true value, min, max) for every
    hidden count below the threshold."""
    unknown: dict[tuple, int] = {}
    known: dict[tuple, float] = {}
    for area, t in published.items():
        groups = t["group"].to_list()
        for r, (n, d) in enumerate(zip(t["n"].to_list(), t["denominator"].to_list())):
            for key, value in (((area, "n", r), n), ((area, "d", groups[r]), d)):
                if value is None:
                    unknown.setdefault(key, len(unknown))
                else:
                    known[key] = value

    def linear(terms):  # [(coef, key)] → (row over unknowns, constant)
        row, const = np.zeros(len(unknown)), 0.0
        for coef, key in terms:
            if key in unknown:
                row[unknown[key]] += coef
            else:
                const += coef * known[key]
        return row, const

    eq, ub = [], []
    for area, t in published.items():
        groups = t["group"].to_list()
        for g in dict.fromkeys(groups):
            rows = [r for r in range(t.height) if groups[r] == g]
            terms = [(1.0, (area, "d", g))] + [(-1.0, (area, "n", r)) for r in rows]
            (eq if kind == "single" else ub).append(linear(terms))  # multi: N − Σn ≤ 0
            if kind == "multi":
                for r in rows:
                    ub.append(linear([(1.0, (area, "n", r)), (-1.0, (area, "d", g))]))
    for total, parts in totals.items():
        t = published[total]
        groups = t["group"].to_list()
        for r in range(t.height):
            eq.append(linear([(1.0, (total, "n", r))] + [(-1.0, (p, "n", r)) for p in parts]))
        for g in dict.fromkeys(groups):
            eq.append(linear([(1.0, (total, "d", g))] + [(-1.0, (p, "d", g)) for p in parts]))

    def pack(rows):
        rows = [(a, c) for a, c in rows if a.any() or abs(c) > 1e-9]
        if not rows:
            return None, None
        return np.array([a for a, _ in rows]), np.array([-c for _, c in rows])

    a_eq, b_eq = pack(eq)
    a_ub, b_ub = pack(ub)

    def bounds(terms):
        c, const = linear(terms)
        if not c.any():
            return const, const
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        high = linprog(-c, A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        assert low.status == 0 and high.status in (0, 3), "the published numbers must be consistent"
        return const + low.fun, (const - high.fun) if high.status == 0 else np.inf

    results = []
    for area, t in truth.items():
        groups = t["group"].to_list()
        for r, (n, d) in enumerate(zip(t["n"].to_list(), t["denominator"].to_list())):
            n_key, d_key = (area, "n", r), (area, "d", groups[r])
            if n_key in unknown and 0 < n < T:
                results.append((area, f"n{r}", n, *bounds([(1.0, n_key)])))
            if kind == "multi" and 0 < d - n < T and (n_key in unknown or d_key in unknown):
                results.append((area, f"N−n{r}", d - n, *bounds([(1.0, d_key), (-1.0, n_key)])))
        for g in dict.fromkeys(groups):
            d = t.filter(pl.col("group").eq_missing(g))["denominator"][0]
            if (area, "d", g) in unknown and 0 < d < T:
                results.append((area, f"N{g}", d, *bounds([(1.0, (area, "d", g))])))
    return results


def random_single(rng, k: int, groups: list[str | None], scale: int) -> pl.DataFrame:
    rows = []
    for g in groups:
        counts = rng.poisson(rng.uniform(0.3, scale), size=k)
        d = int(counts.sum())
        rows += [(g, f"c{i}", int(c), d) for i, c in enumerate(counts)]
    return table(rows)


def random_multi(rng, k: int, groups: list[str | None], scale: int) -> pl.DataFrame:
    rows = []
    for g in groups:
        cases = int(rng.integers(0, scale * 3))
        chosen = rng.random((cases, k)) < rng.uniform(0.05, 0.9, size=k)
        chosen[np.arange(cases), rng.integers(0, k, size=cases)] = True  # ≥ 1 option
        rows += [(g, f"c{i}", int(chosen[:, i].sum()), cases) for i in range(k)]
    return table(rows)


def add(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    return finish_table(
        a.select("group", "category", n=pl.col("n") + b["n"], denominator=pl.col("denominator") + b["denominator"])
    )


def check_secure(published, truth, totals, kind):
    for area, cell, value, low, high in attack(published, truth, totals, kind):
        assert high - low >= 1 - 1e-6, f"{area} {cell} = {value} recovered: [{low}, {high}]"


def check_marked(published: dict[str, pl.DataFrame], truth, exempt, kind):
    """Every small count (and multi complement) of a non-exempt area is hidden."""
    for area, t in published.items():
        if area in exempt:
            assert t.equals(truth[area])
            continue
        true = truth[area]
        small = (true["n"] > 0) & (true["n"] < T)
        if kind == "multi":
            rest = true["denominator"] - true["n"]
            small = small | ((rest > 0) & (rest < T))
        assert t.filter(small.to_numpy())["n"].null_count() == int(small.sum())
        small_d = (true["denominator"] > 0) & (true["denominator"] < T)
        assert t.filter(small_d.to_numpy())["denominator"].null_count() == int(small_d.sum())
        assert (t["n"].is_null() == t["suppressed"]).all()
        assert t.filter(pl.col("suppressed"))["share"].null_count() == int(t["suppressed"].sum())
