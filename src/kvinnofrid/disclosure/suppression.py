"""Small-number protection for every output below national level.

docs/architecture.md: national tables are published as is; tables for a single unit, a
region or any small group of units hide counts below a threshold (config
``suppression_threshold``, default 5) and mark them. This module works on tables with
the columns of ``tables.TABLE_SCHEMA`` (docs/output-contract.md).

What is hidden
--------------
A hidden row has ``n``, ``share``, ``ci_low``, ``ci_high`` (and ``mean``) null and
``suppressed = True``. A hidden denominator is null too (then every row of its group
is hidden): a denominator is a count like any other — "N = 3 HRV cases" discloses as
much as a cell of 3.

Decisions
---------
* **Zero cells are published.** ``n = 0`` ("no one in this unit got X") is not
  protected: it says nothing about a person, and hiding zeros would hide most of a
  small unit's tables. Zeros still take part in the arithmetic below, and a zero can
  be hidden as a *secondary* cell when nothing else can protect a hidden cell.
* **Primary suppression:** ``0 < n < threshold``; a denominator ``0 < N < threshold``
  hides its whole group (rule b). For tables whose rows each split their N in two
  (multi-choice tables and diagram 1: "n of N" and, implicitly, "N − n not"), also
  ``0 < N − n < threshold`` hides the row (rule c): "28 of 30 got X" tells that 2 did
  not.
* **Secondary suppression** works on *additive relations*, each "one number is the
  sum of others": in a single-choice table N = Σ categories (rule a); across areas
  total = Σ parts, cell by cell and for the denominators (rule d: national = unit +
  rest, region = Σ its units). Diagram 1's rows are linked through the registry's
  ``rows`` (one N per base; Aktualiserade's n *is* the N of all cases, Avslutade's n
  the N of the closed cases: the same cell). A relation with exactly one hidden
  member gives that member away by subtraction, so one more member is hidden: the
  smallest *positive* published one (a zero only if nothing else is left), never a
  member of an exempt (national) area. This repeats until no relation has exactly
  one hidden member.
* **Audit.** Finally the attacker's problem is solved (linear programming over
  every published number: the relations, 0 ≤ n, n ≤ N for two-way rows, Σ n ≥ N for
  multi-choice) for each hidden count below the threshold (and each hidden two-way
  "N − n" below it); while one of them is pinned to a single value, the nearest
  free cell is hidden too. Guarantee (tested by a recovery attack on random tables):
  every hidden small count can take at least two values given everything published.
* A row whose N is hidden is hidden as a whole (a share n/N would give N away).
* Means (diagram 10) are hidden with their n (the number of cases they are based
  on). Multi-choice shares do not sum, so their cells are not linked to each other.

Known limit: relations *between different diagrams* of the same unit (e.g. the N of
the HRV group in diagram 21 equals the HRV cell of diagram 5) are not linked here; a
comparison report should suppress the linked tables together or show such groups only
where the group's N is published in every table.

Pure and deterministic: the same tables and threshold give the same result.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import sparse

from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.statistics.tables import TABLE_SCHEMA, wilson_interval

DEFAULT_THRESHOLD = 5

# table kinds (tables.TABLE_FUNCTIONS names → how the rows relate)
SINGLE_KINDS = ("single", "histogram", "flag")  # categories sum to N per group
BINARY_KINDS = ("multi", "phases")  # each row: n of N (and N − n)
KINDS = (*SINGLE_KINDS, *BINARY_KINDS, "means")


class SuppressionError(ValueError):
    """The published areas cannot be protected (e.g. every other member is exempt)."""


# ---------------------------------------------------------------- table kind


def infer_kind(table: pl.DataFrame) -> str:
    """``means`` when the table has means; ``single`` when every group's n sums to
    its (one) denominator; otherwise ``multi`` (rows are "n of N"). Pass the registry's
    ``Diagram.table`` as ``kind`` where known: inference cannot tell diagram 1."""
    if table["mean"].is_not_null().any():
        return "means"
    per_group = table.group_by("group").agg(
        pl.col("n").sum().alias("total"),
        pl.col("denominator").n_unique().alias("k"),
        pl.col("denominator").first().alias("d"),
    )
    if per_group.filter((pl.col("k") != 1) | (pl.col("total") != pl.col("d"))).height == 0:
        return "single"
    return "multi"


# ---------------------------------------------------------------- the cell model


@dataclass
class _Cells:
    """Every published count of every area as one cell; relations between cells."""

    value: list[int] = field(default_factory=list)
    hidden: list[bool] = field(default_factory=list)
    exempt: list[bool] = field(default_factory=list)
    order: list[tuple] = field(default_factory=list)  # tie-break (deterministic)
    relations: list[tuple[int, ...]] = field(default_factory=list)  # first = Σ rest
    upper: list[tuple[int, int]] = field(default_factory=list)  # (n, N): n ≤ N
    at_least: list[tuple[int, ...]] = field(default_factory=list)  # (N, n…): Σ n ≥ N
    rows: list[tuple[int, int]] = field(default_factory=list)  # (N, n) of a row

    def add(self, value: int, exempt: bool, order: tuple) -> int:
        self.value.append(int(value))
        self.hidden.append(False)
        self.exempt.append(exempt)
        self.order.append(order)
        return len(self.value) - 1


@dataclass
class _Area:
    name: str
    table: pl.DataFrame
    kind: str
    exempt: bool
    n_cell: list[int]  # per row
    d_cell: list[int]  # per row (shared within a group for single/multi)


def _key(table: pl.DataFrame) -> list[tuple[str | None, str]]:
    return list(zip(table["group"].to_list(), table["category"].to_list()))


# diagram 1 (registry `rows`): a row's N is the size of its `base`; a row without a
# flag or a valid-column counts the whole base (Aktualiserade: n = N of all cases), and
# the row flagged with the base's flag counts that base (Avslutade: n = N of the closed).
PHASE_BASE_FLAGS = {"closed": "is_closed"}


def default_phase_rows() -> list[dict[str, Any]]:
    """The `rows` of the registry's phases diagram (diagram 1)."""
    for d in load_registry().diagrams:
        if d.table == "phases":
            return list(d.extra["rows"])
    raise ValueError("registret har inget diagram med table: phases")


def _phase_cells(
    cells: _Cells, index: int, table: pl.DataFrame, exempt: bool, phase_rows: Sequence[Mapping[str, Any]]
) -> tuple[list[int], list[int]]:
    spec = {r["label"]: r for r in phase_rows}
    labels = table["category"].to_list()
    unknown = [c for c in labels if c not in spec]
    if unknown:
        raise ValueError(f"diagram 1: raderna {unknown} finns inte bland registrets rader")
    n, d = table["n"].to_list(), table["denominator"].to_list()
    base_cell: dict[str, int] = {}

    def base(name: str, value: int, row: int) -> int:
        if name not in base_cell:
            base_cell[name] = cells.add(value, exempt, (index, row, 0))
        elif cells.value[base_cell[name]] != value:
            raise ValueError(f"diagram 1: basen {name!r} har både {cells.value[base_cell[name]]} och {value}")
        return base_cell[name]

    n_cell, d_cell = [], []
    for row, label in enumerate(labels):
        r = spec[label]
        d_cell.append(base(r["base"], d[row], row))
        counted = [b for b, flag in PHASE_BASE_FLAGS.items() if r.get("flag") == flag]
        if counted:
            n_cell.append(base(counted[0], n[row], row))
        elif "flag" not in r and "valid" not in r:
            n_cell.append(base(r["base"], n[row], row))
        else:
            n_cell.append(cells.add(n[row], exempt, (index, row, 1)))
    return n_cell, d_cell


def _build_area(
    cells: _Cells,
    index: int,
    name: str,
    table: pl.DataFrame,
    kind: str,
    exempt: bool,
    phase_rows: Sequence[Mapping[str, Any]] | None = None,
) -> _Area:
    n = table["n"].to_list()
    d = table["denominator"].to_list()
    groups = table["group"].to_list()
    n_cell, d_cell = [], []
    d_of_group: dict = {}
    if kind == "phases":
        n_cell, d_cell = _phase_cells(
            cells, index, table, exempt, phase_rows if phase_rows is not None else default_phase_rows()
        )
    for row in range(table.height if kind != "phases" else 0):
        n_cell.append(cells.add(n[row], exempt, (index, row, 1)))
        if kind == "means":
            d_cell.append(n_cell[-1])  # N = n: the same count
        else:  # one N per group
            if groups[row] not in d_of_group:
                d_of_group[groups[row]] = cells.add(d[row], exempt, (index, row, 0))
            d_cell.append(d_of_group[groups[row]])
    area = _Area(name, table, kind, exempt, n_cell, d_cell)
    cells.rows.extend(zip(d_cell, n_cell))
    if kind in SINGLE_KINDS:  # rule (a): N = Σ categories
        for group in dict.fromkeys(groups):
            rows = [r for r in range(table.height) if groups[r] == group]
            cells.relations.append((d_cell[rows[0]], *[n_cell[r] for r in rows]))
    if kind in BINARY_KINDS:
        cells.upper.extend((n_cell[r], d_cell[r]) for r in range(table.height))
    if kind == "multi":  # every case chose ≥ 1 option
        for group in dict.fromkeys(groups):
            rows = [r for r in range(table.height) if groups[r] == group]
            cells.at_least.append((d_cell[rows[0]], *[n_cell[r] for r in rows]))
    return area


def _primary(cells: _Cells, area: _Area, threshold: int) -> None:
    if area.exempt:
        return
    n = area.table["n"].to_list()
    d = area.table["denominator"].to_list()
    for row in range(area.table.height):
        small_n = 0 < n[row] < threshold
        small_rest = area.kind in BINARY_KINDS and 0 < d[row] - n[row] < threshold
        if small_n or small_rest:
            cells.hidden[area.n_cell[row]] = True
        if 0 < d[row] < threshold:  # rule (b): the whole group
            cells.hidden[area.d_cell[row]] = True
            cells.hidden[area.n_cell[row]] = True


# ---------------------------------------------------------------- the problem as arrays


def _membership(lists: Sequence[Sequence[int]], n_cells: int, coefs=None) -> sparse.csr_matrix:
    """One row per list, one column per cell; a cell listed twice counts twice."""
    sizes = np.fromiter((len(m) for m in lists), dtype=np.int64, count=len(lists))
    cols = np.fromiter((c for m in lists for c in m), dtype=np.int64, count=int(sizes.sum()))
    rows = np.repeat(np.arange(len(lists)), sizes)
    data = np.ones(len(cols)) if coefs is None else coefs
    out = sparse.csr_matrix((data, (rows, cols)), shape=(len(lists), n_cells))
    out.sum_duplicates()
    out.eliminate_zeros()
    return out


def _rank(keys: Sequence[tuple]) -> np.ndarray:
    """Position of every cell in the order of ``keys`` (ties: the smaller cell index)."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank


class _Problem:
    """The cells and their constraints as sparse arrays, built once per table: the
    secondary search and the audit read them many times (at national scale tens of
    thousands of cells; Python sets per call were most of the run time)."""

    def __init__(self, cells: _Cells):
        n = len(cells.value)
        self.value = np.array(cells.value, dtype=np.int64)
        self.exempt = np.array(cells.exempt, dtype=bool)
        self.hidden = np.array(cells.hidden, dtype=bool)
        self.order = cells.order
        # secondary choice: the smallest positive published cell (a zero last), then order
        self.rank = _rank([(v == 0, v, o) for v, o in zip(cells.value, cells.order)])
        # audit trials: the smallest first, zeros too
        self.trial_rank = _rank([(v, o) for v, o in zip(cells.value, cells.order)])
        self.relations = _membership(cells.relations, n)
        self.relations_of = self.relations.tocsc()
        self.rows = np.array(cells.rows, dtype=np.int64).reshape(-1, 2)
        self.upper = [(a, b) for a, b in cells.upper if a != b]
        # the attacker's constraints: relations (first − Σ rest = 0), then N − Σ n ≤ 0
        # (multi-choice) and n − N ≤ 0 (two-way rows)
        lists = [*cells.relations, *cells.at_least, *self.upper]
        coefs = np.fromiter((1.0 if k == 0 else -1.0 for m in lists for k in range(len(m))), dtype=float)
        self.n_eq = len(cells.relations)
        self.constraint = _membership(lists, n, coefs)
        self.touching = _membership(lists, n)  # which cells share a constraint
        self.touching_t = self.touching.T.tocsr()
        self.linked = (self.constraint != 0).astype(float).tocsr()  # a cell with a coefficient
        self.linked_t = self.linked.T.tocsr()
        self.verdicts: dict[tuple, bool] = {}  # (target, block's cells) → pinned?
        self.whole: _LinearProgramme | None = None  # see _whole
        self.whole_hidden = self.hidden.copy()

    def members(self, relation: int) -> np.ndarray:
        m = self.relations
        return m.indices[m.indptr[relation] : m.indptr[relation + 1]]

    def hide(self, cell: int, counts: np.ndarray) -> None:
        """Hide one cell and keep the hidden count per relation up to date."""
        self.hidden[cell] = True
        col = self.relations_of
        lo, hi = col.indptr[cell], col.indptr[cell + 1]
        counts[col.indices[lo:hi]] += col.data[lo:hi].astype(np.int64)

    def ring(self, seen: np.ndarray) -> np.ndarray:
        """Cells that share a constraint with a cell in ``seen`` (bool mask), not in it."""
        near = self.touching @ seen.astype(float) > 0
        return (self.touching_t @ near.astype(float) > 0) & ~seen


def _candidate(p: _Problem, members: np.ndarray) -> int | None:
    free = members[~p.hidden[members] & ~p.exempt[members]]
    if not free.size:
        return None
    return int(free[np.argmin(p.rank[free])])


def _hide_rows_of_hidden_n(p: _Problem, counts: np.ndarray) -> bool:
    """A hidden N hides its rows (share = n/N). In row order: a row's n can be a later
    row's N (diagram 1)."""
    d, n = p.rows[:, 0], p.rows[:, 1]
    todo = np.flatnonzero(p.hidden[d] & ~p.hidden[n])
    if not todo.size:
        return False
    for k in range(int(todo[0]), len(d)):
        if p.hidden[d[k]] and not p.hidden[n[k]]:
            p.hide(int(n[k]), counts)
    return True


def _secondary(p: _Problem) -> None:
    """Until no additive relation has exactly one hidden member. Each sweep takes the
    relations in their order and sees the cells hidden earlier in the same sweep."""
    counts = np.asarray(p.relations @ p.hidden.astype(np.int64)).astype(np.int64)
    changed = True
    while changed:
        changed = _hide_rows_of_hidden_n(p, counts)
        start = 0
        while True:
            ones = np.flatnonzero(counts[start:] == 1)
            if not ones.size:
                break
            relation = start + int(ones[0])
            pick = _candidate(p, p.members(relation))
            if pick is None:
                raise SuppressionError(
                    "en dold cell kan räknas fram ur publicerade tal och ingen annan cell "
                    "kan döljas (alla övriga hör till områden som publiceras utan skydd)"
                )
            p.hide(pick, counts)
            changed = True
            start = relation + 1


# ---------------------------------------------------------------- the audit (attacker's LP)

PINNED = 1 - 1e-9  # an interval narrower than this leaves one integer value


class _LinearProgramme:
    """min c·x subject to A x = b (rows ``eq``), A x ≤ b (the others), x ≥ 0, for many
    objectives c. HiGHS (the solver behind scipy's linprog) is kept between objectives:
    each solve starts from the previous basis, and the per-call set-up of linprog (most
    of the audit's time) is paid once. scipy is pinned (pyproject); without its HiGHS
    binding the programme falls back to linprog."""

    def __init__(
        self,
        a: sparse.csr_matrix,
        b: np.ndarray,
        eq: np.ndarray,
        lower: np.ndarray | None = None,
        upper: np.ndarray | None = None,
    ):
        self.a, self.b, self.eq = a, b, eq
        self.n = a.shape[1]
        try:
            from scipy.optimize._highspy import _core
        except ImportError:  # pragma: no cover
            self.highs = None
            return
        self.core = _core
        col = sparse.csc_matrix(a)
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, a.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.zeros(self.n) if lower is None else lower
        lp.col_upper_ = np.full(self.n, np.inf) if upper is None else upper
        lp.row_lower_, lp.row_upper_ = np.where(eq, b, -np.inf), b.astype(float)
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = col.indptr, col.indices, col.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.n, a.shape[0]
        self.highs = _core._Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self.columns = np.arange(self.n, dtype=np.int32)

    def minimise(self, c: np.ndarray) -> tuple[float, np.ndarray | None]:
        """(optimum, a solution); (−inf, None) when unbounded."""
        if self.highs is None:  # pragma: no cover
            from scipy.optimize import linprog

            eq = self.eq
            res = linprog(
                c,
                A_eq=self.a[eq] if eq.any() else None,
                b_eq=self.b[eq] if eq.any() else None,
                A_ub=self.a[~eq] if (~eq).any() else None,
                b_ub=self.b[~eq] if (~eq).any() else None,
                bounds=(0, None),
                method="highs",
            )
            return (float(res.fun), res.x) if res.status == 0 else (-np.inf, None)
        self.highs.changeColsCost(self.n, self.columns, np.asarray(c, dtype=float))
        self.highs.run()
        if self.highs.getModelStatus() != self.core.HighsModelStatus.kOptimal:
            return -np.inf, None
        x = np.array(self.highs.getSolution().col_value)
        return float(c @ x), x

    def bound(self, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.highs.changeColsBounds(len(columns), columns.astype(np.int32), lower, upper)


class _Block:
    """One independent part of the attacker's linear programme: unknowns = hidden
    cells linked to each other by constraints (every relation, 0 ≤ x, n ≤ N for
    two-way rows and Σ n ≥ N for multi-choice, over the published cells). A bound on
    one cell is the bound of its block's programme alone; the block is fixed by its
    cells, so a verdict on a block that has not changed is not computed again.

    Every point the solver returns is a possible truth for the attacker, and so is the
    truth itself: a target that already takes two values at least 1 apart among those
    points is free without solving for it."""

    def __init__(self, p: _Problem, cells: np.ndarray):
        self.cells = cells
        inside = np.zeros(len(p.value))
        inside[cells] = 1.0
        rows = np.flatnonzero(p.linked @ inside > 0)
        part = p.constraint[rows]
        rhs = -(part @ np.where(p.hidden, 0.0, p.value.astype(float)))
        sub = part[:, cells]
        eq = rows < p.n_eq
        self.matrix, self.rhs, self.eq = sub, rhs, eq
        self.points = [p.value[cells].astype(float)]
        self.solver = None

    def vector(self, terms: Sequence[tuple[int, float]]) -> np.ndarray:
        out = np.zeros(len(self.cells))
        for c, k in terms:
            at = np.searchsorted(self.cells, c)
            if at < len(self.cells) and self.cells[at] == c:
                out[at] += k
        return out

    def solve(self, c: np.ndarray) -> float:
        """min c·x (−inf when unbounded); the solution joins the points."""
        if self.solver is None:
            self.solver = _LinearProgramme(self.matrix, self.rhs, self.eq)
        value, x = self.solver.minimise(c)
        if x is not None:
            self.points.append(x)
        return value

    def spread(self, c: np.ndarray) -> float:
        values = np.array([c @ x for x in self.points])
        return float(values.max() - values.min())

    def pinned(self, c: np.ndarray) -> bool:
        """Is c·x pinned to an interval narrower than 1?"""
        if not c.any():
            return True  # every cell published: one value
        if self.spread(c) >= PINNED:
            return False
        low, high = self.solve(c), -self.solve(-c)
        return high - low < PINNED

    def push_together(self, vectors: Sequence[np.ndarray]) -> None:
        """Points that move many targets at once: minimise and maximise the sum of the
        targets not yet free, while that frees more of them."""
        open_ = [c for c in vectors if c.any()]
        while len(open_) > 1:
            total = sum(open_)
            self.solve(total)
            self.solve(-total)
            still = [c for c in open_ if self.spread(c) < PINNED]
            if len(still) == len(open_):
                return
            open_ = still


def _block_cells(p: _Problem, around: Sequence[int]) -> np.ndarray:
    """The hidden cells linked to the target's hidden cells (its block), sorted."""
    inside = np.zeros(len(p.value), dtype=bool)
    inside[[c for c in around if p.hidden[c]]] = True
    frontier = inside.copy()
    while frontier.any():
        rows = p.linked @ frontier.astype(float) > 0
        frontier = (p.linked_t @ rows.astype(float) > 0) & p.hidden & ~inside
        inside |= frontier
    return np.flatnonzero(inside)


def _blocks(p: _Problem) -> np.ndarray:
    """Block label of every cell (−1 for published cells)."""
    from scipy.sparse.csgraph import connected_components

    hidden = np.flatnonzero(p.hidden)
    sub = p.linked[:, hidden]
    link = sub.T @ sub  # hidden cells sharing a constraint
    _, labels = connected_components(link, directed=False)
    out = np.full(len(p.value), -1, dtype=np.int64)
    out[hidden] = labels
    return out


def _targets(p: _Problem, threshold: int) -> list[tuple[int, ...]]:
    """Hidden small counts (a cell, or a two-way row's (n, N) for N − n), in a fixed order."""
    targets = [(int(c),) for c in np.flatnonzero(p.hidden & (p.value > 0) & (p.value < threshold))]
    for n_c, d_c in p.upper:
        rest = p.value[d_c] - p.value[n_c]
        if 0 < rest < threshold and (p.hidden[n_c] or p.hidden[d_c]):
            targets.append((n_c, d_c))
    return sorted(targets, key=lambda t: [p.order[c] for c in t])


def _terms(around: tuple[int, ...]) -> list[tuple[int, float]]:
    if len(around) == 1:
        return [(around[0], 1.0)]
    n_c, d_c = around
    return [(d_c, 1.0), (n_c, -1.0)]


def _verdicts(p: _Problem, targets: Sequence[tuple[int, ...]], cells_of) -> list[bool]:
    """Is each target pinned? ``cells_of(target)``: the cells of its block."""
    keyed = [(t, cells_of(t)) for t in targets]
    todo: dict[bytes, list] = {}
    for t, cells in keyed:
        if (t, cells.tobytes()) not in p.verdicts:
            todo.setdefault(cells.tobytes(), [cells, []])[1].append(t)
    for key, (cells, ts) in todo.items():
        block = _Block(p, cells)
        vectors = [block.vector(_terms(t)) for t in ts]
        if len(ts) > 1:
            block.push_together(vectors)
        for t, c in zip(ts, vectors):
            p.verdicts[(t, key)] = block.pinned(c)
    return [p.verdicts[(t, cells.tobytes())] for t, cells in keyed]


def _exposed(p: _Problem, threshold: int) -> list[tuple[int, ...]]:
    """The targets that the published cells pin to one value."""
    targets = _targets(p, threshold)
    if not targets:
        return []
    labels = _blocks(p)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(labels.max() + 2))
    empty = np.array([], dtype=np.int64)

    def cells_of(t):
        hidden = [c for c in t if p.hidden[c]]
        if not hidden:
            return empty
        b = labels[hidden[0]]
        return np.sort(order[bounds[b] : bounds[b + 1]])

    return [t for t, pin in zip(targets, _verdicts(p, targets, cells_of)) if pin]


def _whole(p: _Problem) -> _LinearProgramme | None:
    """The attacker's programme over every cell of the table, a published cell fixed
    to its value by its bounds. Trying one more hidden cell (the audit's trials) then
    only frees a few columns, and HiGHS goes on from the last basis instead of solving
    a new block of thousands of cells from scratch. None without HiGHS' binding."""
    col_bounds = (np.where(p.hidden, 0.0, p.value), np.where(p.hidden, np.inf, p.value.astype(float)))
    if p.whole is None:
        eq = np.arange(p.constraint.shape[0]) < p.n_eq
        p.whole = _LinearProgramme(p.constraint, np.zeros(len(eq)), eq, *col_bounds)
        p.whole_hidden = p.hidden.copy()
    if p.whole.highs is None:  # pragma: no cover
        return None
    changed = np.flatnonzero(p.whole_hidden != p.hidden)
    if changed.size:
        p.whole.bound(changed, col_bounds[0][changed], col_bounds[1][changed])
        p.whole_hidden = p.hidden.copy()
    return p.whole


def _still_exposed(p: _Problem, around: tuple[int, ...]) -> bool:
    """Is this one target (a cell, or a row's N − n) still pinned to one value?"""
    lp = _whole(p)
    if lp is None:  # pragma: no cover
        return _verdicts(p, [around], lambda t: _block_cells(p, t))[0]
    if not p.hidden[list(around)].any():
        return True  # every cell published: one value
    c = np.zeros(len(p.value))
    for cell, k in _terms(around):
        c[cell] += k
    low = lp.minimise(c)[0]
    if c @ p.value - low >= PINNED:  # the truth is 1 above the least
        return False
    return -lp.minimise(-c)[0] - low < PINNED


def _nearest_candidate(p: _Problem, around: tuple[int, ...]) -> int | None:
    """The best cell to hide among those sharing a constraint with ``around``; if none
    is free, one constraint further out, and so on."""
    seen = np.zeros(len(p.value), dtype=bool)
    seen[list(around)] = True
    while True:
        ring = p.ring(seen)
        if not ring.any():
            return None
        pick = _candidate(p, np.flatnonzero(ring))
        if pick is not None:
            return pick
        seen |= ring


AUDIT_TRIALS = 40


def _free_by_one_more(p: _Problem, around: tuple[int, ...]) -> bool:
    """Try the free cells that share a constraint with the target, best first (zeros
    too: a published zero beside a small count is often what pins it), and hide the
    first one that, with its secondary cells, leaves the target more than one value.
    Without this the audit hides the nearest cell blindly and may need a full pass per
    hidden cell when units, size classes and län overlap."""
    seen = np.zeros(len(p.value), dtype=bool)
    seen[list(around)] = True
    ring = np.flatnonzero(p.ring(seen) & ~p.hidden & ~p.exempt)
    for c in ring[np.argsort(p.trial_rank[ring], kind="stable")][:AUDIT_TRIALS]:
        before = p.hidden.copy()
        p.hidden[c] = True
        _secondary(p)
        if not _still_exposed(p, around):
            return True
        p.hidden = before
    return False


def _audit(p: _Problem, threshold: int) -> None:
    """Hide more while a hidden small count can be pinned to one value.

    A pass solves the attacker's problem for every target; then each exposed target,
    in a fixed order, gets one more hidden cell next to it unless the cells hidden
    earlier in the same pass already freed it (checked on that target alone). With many
    overlapping areas (units, size classes, län) this needs a few passes instead of
    one full pass per hidden cell."""
    for _ in range(len(p.value) + 1):
        exposed = _exposed(p, threshold)
        if not exposed:
            return
        for k, around in enumerate(exposed):
            if k > 0 and not _still_exposed(p, around):
                continue
            if _free_by_one_more(p, around):
                continue
            pick = _nearest_candidate(p, around)
            if pick is None:
                raise SuppressionError("en dold cell kan räknas fram och ingen annan cell kan döljas")
            p.hidden[pick] = True
            _secondary(p)
    raise SuppressionError("skyddet av små tal konvergerade inte")


# ---------------------------------------------------------------- applying


def _apply(hidden: np.ndarray, areas: Sequence[_Area], threshold: int) -> list[pl.DataFrame]:
    """The protected tables of ``areas`` (all of one schema), done as one frame: at
    national scale a frame operation per area cost more than the whole audit."""
    table = pl.concat([a.table for a in areas])
    hide_n = hidden[np.concatenate([np.asarray(a.n_cell, dtype=np.int64) for a in areas])]
    hide_d = hidden[np.concatenate([np.asarray(a.d_cell, dtype=np.int64) for a in areas])]
    # a mean based on fewer cases than the threshold goes with its n
    small_mean = (table["n"] < threshold).to_numpy() & table["mean"].is_not_null().to_numpy()
    # a hidden N hides its rows too: a share n/N would give N away (and the contract
    # says a suppressed row has n, share and CIs empty)
    hide_row = hide_n | small_mean | hide_d
    hide_n_s = pl.Series(hide_row)
    out = (
        table.with_columns(
            pl.when(hide_n_s).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("n", "share", "ci_low", "ci_high", "mean")
        )
        .with_columns(
            pl.when(pl.Series(hide_d)).then(None).otherwise(pl.col("denominator")).alias("denominator"),
            (pl.col("suppressed").fill_null(False) | hide_n_s).alias("suppressed"),
        )
        .select(table.columns)
    )
    starts = np.cumsum([0, *(a.table.height for a in areas)])
    return [out.slice(int(starts[k]), a.table.height) for k, a in enumerate(areas)]


def _apply_all(hidden: np.ndarray, areas: Mapping[str, _Area], threshold: int) -> dict[str, pl.DataFrame]:
    """Every area's published table (exempt areas as they are), in the areas' order."""
    by_schema: dict[tuple, list[_Area]] = {}
    for area in areas.values():
        if not area.exempt:
            by_schema.setdefault(tuple(area.table.schema.items()), []).append(area)
    done = {}
    for group in by_schema.values():
        done.update(zip((a.name for a in group), _apply(hidden, group, threshold)))
    return {name: (area.table if area.exempt else done[name]) for name, area in areas.items()}


def _protect(
    tables: Mapping[str, pl.DataFrame],
    threshold: int,
    totals: Mapping[str, Sequence[str]],
    exempt: Collection[str],
    kinds: Mapping[str, str],
    phase_rows: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[np.ndarray, dict[str, _Area]]:
    cells = _Cells()
    areas = {}
    for i, (name, table) in enumerate(tables.items()):
        kind = kinds.get(name) or infer_kind(table)
        if kind not in KINDS:
            raise ValueError(f"okänd tabelltyp {kind!r} (en av {KINDS})")
        areas[name] = _build_area(cells, i, name, table, kind, name in exempt, phase_rows)
    for total, parts in totals.items():
        members = [areas[total], *[areas[p] for p in parts]]
        keys = [_key(a.table) for a in members]
        if any(k != keys[0] for k in keys):
            raise ValueError(f"tabellerna för {total} och {list(parts)} har inte samma rader")
        for row in range(len(keys[0])):
            cells.relations.append(tuple(a.n_cell[row] for a in members))
        seen = set()
        for row in range(len(keys[0])):
            d_cells = tuple(a.d_cell[row] for a in members)
            if d_cells not in seen and d_cells != tuple(a.n_cell[row] for a in members):
                seen.add(d_cells)
                cells.relations.append(d_cells)
    cells.relations = [r for r in dict.fromkeys(cells.relations) if len(set(r)) > 1]
    for area in areas.values():
        _primary(cells, area, threshold)
    problem = _Problem(cells)
    _secondary(problem)
    _audit(problem, threshold)
    return problem.hidden, areas


def suppress_complements(
    tables_by_area: Mapping[str, pl.DataFrame],
    threshold: int = DEFAULT_THRESHOLD,
    *,
    totals: Mapping[str, Sequence[str]] | None = None,
    exempt: Collection[str] = (),
    kinds: Mapping[str, str] | str | None = None,
    phase_rows: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, pl.DataFrame]:
    """Suppress the same diagram's tables for several published areas consistently.

    ``tables_by_area``: area name → table (same rows in the same order in every area).
    ``totals``: area → the areas it is the sum of, e.g. ``{"Riket": ["Arboga", "Övriga"],
    "Region": ["Arboga", "Köping"]}``; default: the first area is the sum of all others.
    ``exempt``: areas published as they are (the national tables): never suppressed,
    never chosen as a secondary cell. ``kinds``: the table kind (``Diagram.table``) for
    all areas or per area; inferred when missing. ``phase_rows``: diagram 1's registry
    rows (label, base, flag/valid), default the registry's.

    Returns area → suppressed table (exempt areas unchanged). No hidden count below the
    threshold is the difference of published cells (see the module docstring)."""
    names = list(tables_by_area)
    if totals is None:
        totals = {names[0]: names[1:]} if len(names) > 1 else {}
    if isinstance(kinds, str):
        kinds = dict.fromkeys(names, kinds)
    hidden, areas = _protect(tables_by_area, threshold, totals, set(exempt), kinds or {}, phase_rows)
    return _apply_all(hidden, areas, threshold)


def subtract(total: pl.DataFrame, part: pl.DataFrame) -> pl.DataFrame:
    """The rest = total − part, cell by cell (n and denominator; shares recomputed,
    means dropped): what anyone can derive from a national and a unit table."""
    if _key(total) != _key(part):
        raise ValueError(
            "tabellerna har inte samma rader (grupp, kategori) i samma ordning: "
            "bygg enhetens tabell med rikets kategorier"
        )
    n = (total["n"] - part["n"]).to_numpy()
    d = (total["denominator"] - part["denominator"]).to_numpy()
    low, high = wilson_interval(n, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(d > 0, n / np.where(d > 0, d, 1), np.nan)
    has_share = total["share"].is_not_null().to_numpy()
    return total.with_columns(
        pl.Series("n", n, dtype=pl.Int64),
        pl.Series("denominator", d, dtype=pl.Int64),
        pl.Series("share", np.where(has_share, share, np.nan)).fill_nan(None),
        pl.Series("ci_low", np.where(has_share, low, np.nan)).fill_nan(None),
        pl.Series("ci_high", np.where(has_share, high, np.nan)).fill_nan(None),
        pl.lit(None, pl.Float64).alias("mean"),
        pl.lit(False).alias("suppressed"),
    ).select(TABLE_SCHEMA.names())


def suppress_table(
    table: pl.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    national: pl.DataFrame | None = None,
    kind: str | None = None,
    phase_rows: Sequence[Mapping[str, Any]] | None = None,
) -> pl.DataFrame:
    """One table below national level (a unit, a region), suppressed.

    ``kind``: the registry's table function name (``Diagram.table``: single, multi,
    phases, means, histogram, flag); inferred when None (diagram 1 must be named).
    ``national``: the national table the report shows beside it. Then the rest
    (national − this table) is derivable by anyone and protected too — with two units
    in a region, "region − unit" *is* the other unit — so a cell is also hidden when
    the rest's cell is a small count, and hidden cells stay hidden in the rest."""
    if national is None:
        return suppress_complements(
            {"area": table}, threshold, totals={}, kinds={"area": kind} if kind else None, phase_rows=phase_rows
        )["area"]
    rest = subtract(national, table)
    kind = kind or infer_kind(table)
    out = suppress_complements(
        {"national": national, "area": table, "rest": rest},
        threshold,
        totals={"national": ["area", "rest"]},
        exempt={"national"},
        kinds=dict.fromkeys(("national", "area", "rest"), kind),
        phase_rows=phase_rows,
    )
    return out["area"]
