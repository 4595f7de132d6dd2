"""An independent audit of the small-number protection below national level: the
attack itself, written apart from suppression.py (its own model of what is
published, its own linear programmes, no code shared with the suppression), so that a
mistake in one is not repeated in the other.

Why in the package and not under tests/: the audit is a tool, not only a test. SKR's
statistician runs it on the real run before the comparison reports are published
(``python -m kvinnofrid.disclosure.audit <workdir>``, it prints what it finds), the
tests run it on the demo and on a national set, and the benchmark measures it.

What the attacker sees: every published table of every area of the final round
(tables.parquet: the country as it is, units, size classes or comparison groups and
län protected), the marks of the hidden cells, and the published key shares of the
earlier rounds (trend.parquet), whose tables are otherwise unpublished unknowns.
What the attacker knows of the structure:

* in a single-choice table N = Σ categories; in a multi-choice table n ≤ N per row
  and Σ n ≥ N (every case chose at least one option);
* an area that pools units is the sum of its units, cell by cell and N by N, the
  country the sum of every unit, in every round;
* a round's key share is the sum of its categories over the table's N;
* a unit whose data did not change after an earlier round (no newer export; the
  reports say which export each unit rests on) has the same table in both rounds;
* every count is at least 0; with the marks, a count marked as below the threshold
  lies in 0 … threshold − 1 and one hidden to protect another is at least the threshold.

Attackers: an outsider (nothing more), and each unit alone knowing all its own
numbers of every round. For every hidden count the audit computes the attacker's
interval (least and largest value consistent with all of the above) by linear
programming and reports:

* ``outsider_exact``: hidden cells an outsider pins to one value by the arithmetic
  of what is published; ``outsider_exact_marks`` the same reading the marks too;
* ``unit_exact``: hidden counts of 1 … threshold − 1 of another area that a unit pins
  to one value by the arithmetic; ``unit_exact_marks`` reading the marks too;
* ``unit_narrow``: such counts a unit narrows by the arithmetic alone (no marks) to
  an interval narrower than the threshold;
* ``visible_small``: counts of 1 … threshold − 1 shown for an area other than the country.

``counts`` counts (cell, attacker) pairs, ``cells`` the distinct cells.

National tables are published as they are: a cell the country's numbers pin whatever
is hidden (all units 0 where the country has 0) is counted apart (``national``).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy import sparse
from scipy.optimize import linprog

SMALL, PROTECT = "under_troskel", "skyddar_annat"
KEYS = (
    "outsider_exact",
    "outsider_exact_marks",
    "unit_exact",
    "unit_exact_marks",
    "unit_narrow",
    "pair_exact",
    "national",
)
HIDDEN = "dold"  # hidden without a reason (outputs from before the reasons)
EPS = 1e-6
_DUAL, _PRIMAL = 1, 4  # HiGHS's simplex_strategy values


@dataclass
class _System:
    """Unknowns and constraints of one table (all rounds): x ≥ 0, A_eq x = b_eq, A_ub x ≤ b_ub."""

    truth: list[float] = field(default_factory=list)
    owner: list[str | None] = field(default_factory=list)
    mark: list[str | None] = field(default_factory=list)  # SMALL / PROTECT / None (unpublished)
    label: list[tuple] = field(default_factory=list)
    eq: list[tuple[dict[int, float], float]] = field(default_factory=list)
    ub: list[tuple[dict[int, float], float]] = field(default_factory=list)

    def unknown(self, value: float, owner: str | None, mark: str | None, label: tuple) -> int:
        self.truth.append(float(value))
        self.owner.append(owner)
        self.mark.append(mark)
        self.label.append(label)
        return len(self.truth) - 1


class _Term:
    """A published number (constant) or an unknown, in linear expressions."""

    def __init__(self, system: _System, shown: float | None, truth: float, owner, mark, label):
        self.const = None if shown is None else float(shown)
        self.var = None if shown is not None else system.unknown(truth, owner, mark, label)


def _add(system: _System, terms: Sequence[tuple[float, _Term]], kind: str = "eq") -> None:
    """Σ coef·term = 0 (``eq``) or ≤ 0 (``ub``)."""
    row: dict[int, float] = {}
    const = 0.0
    for coef, t in terms:
        if t.var is None:
            const += coef * t.const
        else:
            row[t.var] = row.get(t.var, 0.0) + coef
    if row:
        (system.eq if kind == "eq" else system.ub).append((row, -const))


def _area_terms(system, truth: pl.DataFrame, shown: pl.DataFrame | None, owner, round_, table, area):
    """The terms of one area's table: per row its n, per group its N."""
    n_terms, d_terms = [], {}
    groups = truth["group"].to_list()
    for r, (g, c, n, d) in enumerate(truth.select("group", "category", "n", "denominator").iter_rows()):
        if shown is None:
            n_shown, d_shown, n_mark, d_mark = None, None, None, None
        else:
            row = shown.row(r, named=True)
            n_shown, d_shown = row["n"], row["denominator"]
            n_mark = (row.get("hidden_reason") or HIDDEN) if n_shown is None else None
            d_mark = (row.get("denominator_reason") or HIDDEN) if d_shown is None else None
        n_terms.append(_Term(system, n_shown, n, owner, n_mark, (round_, table, area, g, c, "n")))
        if g not in d_terms:
            d_terms[g] = _Term(system, d_shown, d, owner, d_mark, (round_, table, area, g, None, "N"))
    return n_terms, d_terms, groups


@dataclass(frozen=True)
class Published:
    """What the audit reads: per round the truth (every area, unprotected) and, for the
    final round, the published tables; the published key shares of every round; which
    areas pool which units; which units are unchanged since an earlier round."""

    truth: Mapping[str, pl.DataFrame]  # round → long frame (table, area, …) unprotected
    final: pl.DataFrame  # the published long frame of the final round
    trend: pl.DataFrame  # published key shares: area, measure, round, n, denominator
    measures: Sequence[Mapping[str, Any]]  # id, diagram, categories
    members: Mapping[str, Sequence[str]]  # pooled area → its units (the country too)
    kinds: Mapping[str, str]  # table id → single / multi (anything else: single)
    unchanged: Mapping[str, Sequence[str]] = field(default_factory=dict)  # earlier round → units


def _table_system(pub: Published, table: str, threshold: int) -> _System:
    """Every published number of one table id (every area, every round) and its structure."""
    system = _System()
    rounds = list(pub.truth)
    final = rounds[-1]
    units = set(pub.members.get("Riket", ()))
    cells: dict[tuple, tuple] = {}
    multi = pub.kinds.get(table) == "multi"
    for r in rounds:
        truth = pub.truth[r].filter(pl.col("table") == table)
        if truth.is_empty():
            continue
        for (area,), t in truth.partition_by("area", as_dict=True, maintain_order=True).items():
            shown = None
            if r == final:
                shown = pub.final.filter((pl.col("table") == table) & (pl.col("area") == area))
            elif area == "Riket":
                shown = t  # the national numbers are published as they are
            owner = area if area in units else None
            n_terms, d_terms, groups = _area_terms(system, t, shown, owner, r, table, area)
            cells[(r, area)] = (n_terms, d_terms, groups, t["category"].to_list())
            for g in dict.fromkeys(groups):
                rows = [k for k in range(len(groups)) if groups[k] == g]
                if multi:
                    _add(system, [(1.0, d_terms[g])] + [(-1.0, n_terms[k]) for k in rows], "ub")
                    for k in rows:
                        _add(system, [(1.0, n_terms[k]), (-1.0, d_terms[g])], "ub")
                else:
                    _add(system, [(1.0, d_terms[g])] + [(-1.0, n_terms[k]) for k in rows])
        for total, parts in pub.members.items():
            if (r, total) not in cells:
                continue
            mine = [cells[(r, u)] for u in parts if (r, u) in cells]
            tn, td, groups, _ = cells[(r, total)]
            for k in range(len(tn)):
                _add(system, [(1.0, tn[k])] + [(-1.0, m[0][k]) for m in mine])
            for g in dict.fromkeys(groups):
                _add(system, [(1.0, td[g])] + [(-1.0, m[1][g]) for m in mine])
    _link_rounds(system, pub, table, cells, final)
    return system


def _link_rounds(system: _System, pub: Published, table: str, cells: Mapping, final: str) -> None:
    """The published key shares of each round, and the units unchanged since a round."""
    for m in pub.measures:
        if str(m["diagram"]) != table:
            continue
        shares = pub.trend.filter(pl.col("measure") == m["id"])
        for area, round_, n, d in shares.select(
            "area", pl.col("round").cast(pl.String), "n", "denominator"
        ).iter_rows():
            if (round_, area) not in cells:
                continue
            n_terms, d_terms, groups, cats = cells[(round_, area)]
            picked = [n_terms[k] for k, c in enumerate(cats) if c in m["categories"]]
            g = groups[0]
            if n is not None:
                _add(system, [(1.0, t) for t in picked] + [(-1.0, _Const(n))])
            if d is not None:
                _add(system, [(1.0, d_terms[g]), (-1.0, _Const(d))])
    for r, units in pub.unchanged.items():
        for u in units:
            if (r, u) in cells and (final, u) in cells:
                then, now = cells[(r, u)], cells[(final, u)]
                for a, b in zip(then[0], now[0]):
                    _add(system, [(1.0, a), (-1.0, b)])
                for g in then[1]:
                    _add(system, [(1.0, then[1][g]), (-1.0, now[1][g])])


class _Const:
    def __init__(self, value: float):
        self.const, self.var = float(value), None


class _Solver:
    """The attacker's programme of one system, handed to HiGHS once; each attack only
    changes the columns' bounds and the objective, and HiGHS starts from its last basis
    (scipy's HiGHS binding; linprog, which builds the model anew per call, where it is
    missing)."""

    def __init__(self, system: _System):
        n = len(system.truth)
        self.n = n
        self.truth = np.array(system.truth)
        rows = [(r, b, b) for r, b in system.eq] + [(r, -np.inf, b) for r, b in system.ub]
        data = [(i, j, v) for i, (row, _, _) in enumerate(rows) for j, v in row.items()]
        i, j, v = zip(*data) if data else ((), (), ())
        self.a = sparse.csc_matrix((v, (i, j)), shape=(len(rows), n))
        self.row_low = np.array([lo for _, lo, _ in rows], dtype=float)
        self.row_high = np.array([hi for _, _, hi in rows], dtype=float)
        self.highs = self._model()

    def _model(self):
        try:
            from scipy.optimize._highspy import _core
        except ImportError:  # pragma: no cover
            return None
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, self.a.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_, lp.col_upper_ = np.zeros(self.n), np.full(self.n, np.inf)
        lp.row_lower_, lp.row_upper_ = self.row_low, self.row_high
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = self.a.indptr, self.a.indices, self.a.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.n, self.a.shape[0]
        highs = _core._Highs()
        highs.setOptionValue("output_flag", False)
        # Consecutive attacks change the objective far more often than the bounds: the
        # primal simplex, started from the last basis with presolve off (which would
        # discard it), is 2-3 times faster here than HiGHS's default dual simplex.
        highs.setOptionValue("presolve", "off")
        highs.setOptionValue("simplex_strategy", _PRIMAL)
        highs.passModel(lp)
        self.core = _core
        return highs

    def solve(self, c: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray | None:
        """A point minimising c·x (None when unbounded)."""
        if self.highs is None:  # pragma: no cover
            eq = self.row_low == self.row_high
            a = self.a.tocsr()
            res = linprog(
                c,
                A_ub=sparse.vstack([a[~eq], -a[~eq & np.isfinite(self.row_low)]]) if (~eq).any() else None,
                b_ub=np.r_[self.row_high[~eq], -self.row_low[~eq & np.isfinite(self.row_low)]] if (~eq).any() else None,
                A_eq=a[eq] if eq.any() else None,
                b_eq=self.row_low[eq] if eq.any() else None,
                bounds=np.c_[low, high],
                method="highs",
            )
            return None if res.status == 3 else res.x
        cols = np.arange(self.n, dtype=np.int32)
        self.highs.changeColsBounds(self.n, cols, low.astype(float), high.astype(float))
        self.highs.changeColsCost(self.n, cols, np.asarray(c, dtype=float))
        status = self._run()
        if status == self.core.HighsModelStatus.kUnbounded:
            return None
        if status != self.core.HighsModelStatus.kOptimal:
            raise ValueError(f"granskningen: det publicerade går inte ihop ({status})")
        return np.array(self.highs.getSolution().col_value)

    def _run(self) -> Any:
        """Solve; a status other than optimal or unbounded is solved again from scratch
        with HiGHS's default (dual) simplex before it counts as an answer."""
        self.highs.run()
        status = self.highs.getModelStatus()
        if status in (self.core.HighsModelStatus.kOptimal, self.core.HighsModelStatus.kUnbounded):
            return status
        self.highs.clearSolver()
        self.highs.setOptionValue("simplex_strategy", _DUAL)
        self.highs.run()
        self.highs.setOptionValue("simplex_strategy", _PRIMAL)
        return self.highs.getModelStatus()

    def interval(self, target: int, low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
        c = np.zeros(self.n)
        c[target] = 1.0
        least = self.solve(c, low, high)
        most = self.solve(-c, low, high)
        return float(least[target]), (np.inf if most is None else float(most[target]))

    def spread_points(self, targets: np.ndarray, low: np.ndarray, high: np.ndarray, seed: int) -> list[np.ndarray]:
        """Possible truths that move many targets at once (random directions): a
        target that already takes values far enough apart among them needs no
        programme of its own."""
        rng = np.random.default_rng(seed)
        points = []
        for _ in range(2):
            c = np.zeros(self.n)
            c[targets] = rng.uniform(0.5, 1.5, len(targets))
            for sign in (1.0, -1.0):
                x = self.solve(sign * c, low, high)
                if x is not None:
                    points.append(x)
        return points


def _bounds(
    system: _System, threshold: int, marks: bool, knows: str | Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    truth = np.array(system.truth)
    low, high = np.zeros(len(truth)), np.full(len(truth), np.inf)
    if marks:
        mark = np.array([m or "" for m in system.mark])
        high[mark == SMALL] = threshold - 1
        low[mark == PROTECT] = threshold
    if knows is not None:  # a unit, or units pooling their numbers
        own = np.isin(np.array([o or "" for o in system.owner]), [knows] if isinstance(knows, str) else list(knows))
        low[own], high[own] = truth[own], truth[own]
    return low, high


def audit_table(pub: Published, table: str, threshold: int) -> dict[str, list[dict[str, Any]]]:
    """The findings of one table id (see the module docstring)."""
    system = _table_system(pub, table, threshold)
    found: dict[str, list[dict[str, Any]]] = {k: [] for k in KEYS}
    if not system.truth:
        return found
    solver = _Solver(system)
    truth = solver.truth
    hidden = np.array([k for k, m in enumerate(system.mark) if m is not None], dtype=np.int64)
    small = hidden[(truth[hidden] >= 1) & (truth[hidden] < threshold)]
    baseline = _Baseline(pub, table, threshold)
    owner = np.array([o or "" for o in system.owner])
    attacks = [(None, False, hidden, 1.0, "outsider_exact"), (None, True, hidden, 1.0, "outsider_exact_marks")]
    for unit in sorted({o for o in system.owner if o is not None}):
        mine = small[owner[small] != unit]
        attacks += [
            (unit, False, mine, 1.0, "unit_exact"),
            (unit, True, mine, 1.0, "unit_exact_marks"),
            (unit, True, mine, float(threshold - 1), "unit_narrow"),
        ]
    for seed, (unit, marks, targets, width, key) in enumerate(attacks):
        if not targets.size:
            continue
        low, high = _bounds(system, threshold, marks, unit)
        points = np.array([truth, *solver.spread_points(targets, low, high, seed)])
        spread = points[:, targets].max(axis=0) - points[:, targets].min(axis=0)
        for k in targets[spread < width - EPS].tolist():
            least, most = solver.interval(k, low, high)
            if most - least < width - EPS:
                national = baseline.narrow(system.label[k], unit, marks, width)
                found["national" if national else key].append(_finding(system, k, unit, least, most))
    found["pair_exact"] = _pair_findings(system, small, threshold, baseline)
    return found


class _Baseline:
    """The table with every area's numbers hidden and only the country's shown (each
    hidden cell with the mark the policy would give it): what the national tables give
    away on their own, whatever the suppression does. A finding that is as narrow here
    is counted apart (``national``)."""

    def __init__(self, pub: Published, table: str, threshold: int):
        final = list(pub.truth)[-1]
        truth = pub.truth[final]
        marks = {
            reason: pl.when(pl.col("area") == "Riket")
            .then(None)
            .when(pl.col(col) < threshold)
            .then(pl.lit(SMALL))
            .otherwise(pl.lit(PROTECT))
            .alias(reason)
            for col, reason in (("n", "hidden_reason"), ("denominator", "denominator_reason"))
        }
        hidden = truth.with_columns(*marks.values()).with_columns(
            pl.when(pl.col("area") != "Riket").then(None).otherwise(pl.col(c)).alias(c) for c in ("n", "denominator")
        )
        self.system = _table_system(
            Published(pub.truth, hidden, pub.trend.clear(), (), pub.members, pub.kinds), table, threshold
        )
        self.threshold = threshold
        self.index = {label: k for k, label in enumerate(self.system.label)}
        self.solver = _Solver(self.system) if self.system.truth else None

    def narrow(self, label: tuple, unit: str | Sequence[str] | None, marks: bool, width: float) -> bool:
        k = self.index.get(label)
        if k is None or self.solver is None:
            return False
        low, high = _bounds(self.system, self.threshold, marks, unit)
        least, most = self.solver.interval(k, low, high)
        return most - least < width - EPS


def _pair_findings(
    system: _System, targets: np.ndarray, threshold: int, baseline: _Baseline | None
) -> list[dict[str, Any]]:
    """Hidden counts of 1 … threshold − 1 that two units pooling their numbers (reading
    the marks) pin to one value. For each count: possible truths moving it by one, each
    as sparse as can be (least total change); a truth that leaves both units' numbers
    as they are clears the pair. While some pair is not cleared by any truth found, the
    pair's own programme either finds one or shows that the pair pins the count."""
    found: list[dict[str, Any]] = []
    if not targets.size:
        return found
    mover = _Mover(system, threshold)
    owner = np.array([o or "" for o in system.owner])
    for k in targets.tolist():
        moved_sets: list[frozenset[str]] = []
        pair: tuple[str, ...] = ()
        while pair is not None:
            fixed = np.isin(owner, pair) if pair else np.zeros(len(owner), dtype=bool)
            step = mover.move(k, fixed)
            if step is None:
                label = system.label[k]
                if baseline is None or not baseline.narrow(label, pair, True, 1.0):
                    found.append(_finding(system, k, " + ".join(sorted(pair)), system.truth[k], system.truth[k]))
                break
            moved_sets.append(frozenset(owner[step].tolist()) - {"", system.owner[k]})
            pair = _unhit_pair(moved_sets)
    return found


def _unhit_pair(moved: Sequence[frozenset[str]]) -> tuple[str, ...] | None:
    """Two units such that every truth found moves a number of one of them (no truth
    found clears them), or None when there is no such pair. A truth that moves no
    other unit's number clears every pair."""
    if any(not m for m in moved):
        return None
    first = min(moved, key=len)
    for a in sorted(first):
        rest = [m for m in moved if a not in m]
        if not rest:
            others = sorted(frozenset().union(*moved) - {a})
            return (a, others[0]) if others else (a,)
        common = frozenset.intersection(*rest) - {a}
        if common:
            return a, min(common)
    return None


class _Mover:
    """Possible truths as close to the truth as can be: min Σ |x − truth| over the
    attacker's programme (marks read), the target moved by one (up, else down), the
    fixed unknowns at their truth. Its own HiGHS model (x = truth + p − m)."""

    def __init__(self, system: _System, threshold: int):
        from scipy.optimize._highspy import _core

        self.core = _core
        solver = _Solver(system)
        truth = solver.truth
        n = len(truth)
        self.n, self.truth = n, truth
        low, high = _bounds(system, threshold, True, None)
        self.up, self.down = high - truth, truth - low
        a = sparse.hstack([solver.a, -solver.a]).tocsc()
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = 2 * n, a.shape[0]
        lp.col_cost_ = np.ones(2 * n)
        lp.col_lower_, lp.col_upper_ = np.zeros(2 * n), np.r_[self.up, self.down]
        base = solver.a @ truth
        lp.row_lower_, lp.row_upper_ = solver.row_low - base, solver.row_high - base
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = 2 * n, a.shape[0]
        self.highs = _core._Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)

    def move(self, k: int, fixed: np.ndarray) -> np.ndarray | None:
        """The unknowns a truth moving unknown ``k`` by one changes, or None if none can."""
        cols = np.arange(2 * self.n, dtype=np.int32)
        for sign in (1, -1):
            up, down = np.where(fixed, 0.0, self.up), np.where(fixed, 0.0, self.down)
            if (up[k] if sign > 0 else down[k]) < 1 - EPS:
                continue
            low = np.zeros(2 * self.n)
            if sign > 0:
                up[k], down[k], low[k] = 1.0, 0.0, 1.0
            else:
                up[k], down[k], low[self.n + k] = 0.0, 1.0, 1.0
            self.highs.changeColsBounds(2 * self.n, cols, low, np.r_[up, down])
            self.highs.run()
            if self.highs.getModelStatus() == self.core.HighsModelStatus.kOptimal:
                x = np.asarray(self.highs.getSolution().col_value)
                return np.flatnonzero(np.abs(x[: self.n] - x[self.n :]) > EPS)
        return None


def _finding(system: _System, k: int, unit: str | None, low: float, high: float) -> dict[str, Any]:
    round_, table, area, group, category, what = system.label[k]
    return {
        "round": round_,
        "table": table,
        "area": area,
        "group": group,
        "category": category,
        "cell": what,
        "value": int(system.truth[k]),
        "attacker": unit,
        "interval": [round(low, 3), round(high, 3) if np.isfinite(high) else None],
    }


def audit(pub: Published, threshold: int = 5, workers: int = 1, progress: Any = None) -> dict[str, Any]:
    """Every table's findings and the counts (hidden cells per area kind included).
    The tables are independent problems: ``workers`` processes audit them side by side;
    ``progress`` (a callable) hears each table's id, findings and CPU seconds as it is done."""
    found: dict[str, list] = {k: [] for k in KEYS}
    for table, rows_by_key, seconds in _audit_tables(pub, threshold, workers):
        if progress is not None:
            progress(table, {k: len(v) for k, v in rows_by_key.items()}, seconds)
        for key, rows in rows_by_key.items():
            found[key] += rows
    hidden = pub.final.group_by("area_kind").agg(pl.col("suppressed").sum().alias("hidden"), pl.len().alias("cells"))
    below = pub.final.filter((pl.col("area") != "Riket") & pl.col("n").is_not_null() & (pl.col("n") < threshold))
    found["visible_small"] = [
        {"table": t, "area": a, "category": c, "value": int(n)}
        for t, a, c, n in below.filter(pl.col("n") > 0).select("table", "area", "category", "n").iter_rows()
    ]
    cells = {
        k: len({(f["table"], f["area"], f["group"], f["category"], f["cell"]) for f in v})
        for k, v in found.items()
        if k != "visible_small"
    }
    return {
        "counts": {k: len(v) for k, v in found.items()},
        "cells": cells,
        "small_cells": {
            k: len({(f["table"], f["area"], f["group"], f["category"], f["cell"]) for f in v if f["value"] < threshold})
            for k, v in found.items()
            if k != "visible_small"
        },
        "visible_zeros": int((below["n"] == 0).sum()),
        "hidden": {k: [int(h), int(c)] for k, h, c in hidden.sort("area_kind").iter_rows()},
        "findings": found,
    }


def _audit_tables(pub: Published, threshold: int, workers: int):
    """(table, findings, CPU seconds) per table, in the tables' order."""
    ids = pub.final["table"].unique(maintain_order=True).to_list()
    if workers <= 1 or len(ids) <= 1:
        yield from (_timed_table(pub, t, threshold) for t in ids)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: polars' thread pool does not survive a fork; the published
    # tables go to each worker once (initializer), not with every table
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(ids)), context, _set_worker_pub, (pub,)) as pool:
        yield from pool.map(_worker_table, ids, [threshold] * len(ids))


def _timed_table(pub: Published, table: str, threshold: int) -> tuple[str, dict[str, list], float]:
    start = time.process_time()
    found = audit_table(pub, table, threshold)
    return table, found, time.process_time() - start


_WORKER_PUB: list[Published] = []


def _set_worker_pub(pub: Published) -> None:
    _WORKER_PUB[:] = [pub]


def _worker_table(table: str, threshold: int) -> tuple[str, dict[str, list], float]:
    return _timed_table(_WORKER_PUB[0], table, threshold)


def from_run(workdir: Path, threshold: int = 5) -> Published:
    """The audit's inputs from a pipeline run's folder (interim/ of rule unit_tables)."""
    from kvinnofrid.disclosure import area_tables
    from kvinnofrid.statistics import trend

    interim = Path(workdir) / "interim"
    info = json.loads((interim / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    areas = [area_tables.Area(a["kind"], a["name"], a["slug"], tuple(a["units"])) for a in info]
    units = pl.read_csv(interim / "units.csv")
    rounds = sorted(units["round"].cast(pl.String).unique().to_list())
    final = pl.read_parquet(interim / "kommuner" / "tables.parquet")
    diagrams = sorted(int(t) for t in final["table"].unique() if t.isdigit())
    measures = trend.resolved_measures(trend.DEFAULT_MEASURES)
    truth, departed = {}, set()
    for r in rounds:
        path = (
            interim / "cases_derived.parquet" if r == rounds[-1] else interim / "rounds" / r / "cases_derived.parquet"
        )
        cases = pl.read_parquet(path)
        shown = diagrams if r == rounds[-1] else sorted({int(m["diagram"]) for m in measures})
        gone = _departed_units(cases, areas)
        departed |= {a.name for a in gone}
        by_id = area_tables.area_tables(cases, [*areas, *gone], shown, {"honour_interventions_min": 10})
        truth[r] = area_tables.long_frame(by_id, {a.name: a.kind for a in [*areas, *gone]})
    published_trend = pl.read_parquet(interim / "kommuner" / "trend.parquet").filter(pl.col("round").is_not_null())
    return Published(
        truth=truth,
        final=final,
        trend=published_trend,
        measures=measures,
        members={
            a.name: (*a.units, *(sorted(departed) if a.kind == "riket" else ())) for a in areas if a.kind != "enhet"
        },
        kinds={t: area_tables.table_kind(t) for t in final["table"].unique().to_list()},
        unchanged={r: sorted(v) for r, v in area_tables.unchanged_units(units, rounds).items()},
    )


def _departed_units(cases: pl.DataFrame, areas: Sequence[Any]) -> list[Any]:
    """Units with cases in an earlier round but no area of their own in the final one
    (they sent no later export, or left): their cases are in that round's country
    numbers, unpublished otherwise, and each of them knows its own numbers."""
    from kvinnofrid.disclosure import area_tables

    covered = {u for a in areas if a.kind == "enhet" for u in a.units}
    return [area_tables.Area("enhet", u, u, (u,)) for u in sorted(set(cases["unit"].to_list()) - covered)]


def _arguments(argv: Sequence[str] | None):
    import argparse
    import os

    parser = argparse.ArgumentParser(
        prog="python -m kvinnofrid.disclosure.audit",
        description="Angriper det som jämförelserapporterna publicerar (se användarguiden).",
    )
    parser.add_argument("arbetsmapp", type=Path, help="körningens mapp (den med interim/)")
    parser.add_argument("troskel", nargs="?", type=int, default=5, metavar="tröskel", help="förval 5")
    parser.add_argument(
        "--processer",
        type=int,
        default=os.cpu_count() or 1,
        help="tabeller som granskas samtidigt (förval: alla kärnor)",
    )
    return parser.parse_args(argv)


def _report_progress(table: str, counts: Mapping[str, int], seconds: float) -> None:
    found = sum(counts.values()) - counts.get("national", 0)
    print(f"tabell {table}: {found} fynd ({seconds:.0f} s processortid)", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    threshold = args.troskel
    result = audit(from_run(args.arbetsmapp, threshold), threshold, args.processer, _report_progress)
    summary = {k: result[k] for k in ("counts", "cells", "small_cells", "visible_zeros", "hidden")}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    for key in (
        "outsider_exact",
        "unit_exact",
        "outsider_exact_marks",
        "unit_exact_marks",
        "unit_narrow",
        "pair_exact",
    ):
        for f in result["findings"][key][:10]:
            print(key, json.dumps(f, ensure_ascii=False))
    failing = ("outsider_exact", "unit_exact", "unit_narrow", "pair_exact", "visible_small")
    return 1 if any(result["counts"][k] for k in failing) else 0


if __name__ == "__main__":
    raise SystemExit(main())
