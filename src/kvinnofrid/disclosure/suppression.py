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
* **Zeros are hidden like counts of 1 … threshold − 1** (the zero policy, SCB's
  handbook on disclosure control in mind): a 0 beside a share of 100 % says that every
  case of the area has the same attribute, which tells something about every person in
  it (group disclosure); and with zeros hidden a mark says exactly what it means: a
  cell marked below the threshold is 0 … threshold − 1, one hidden to protect another
  is at least the threshold (``hidden_reason``: REASON_SMALL / REASON_PROTECT).
* **Attackers.** An outsider, and a unit that knows all its own numbers (``owners``):
  a relation is solved by a unit when all its hidden members but one are the unit's
  own, so the secondary step keeps at least two hidden members unknown to every unit;
  the audit solves each unit's programme (its own hidden cells fixed) for the hidden
  counts of 1 … threshold − 1 of the others.
* **Primary suppression:** ``n < threshold``; a denominator ``N < threshold``
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
  multi-choice, and the marks: a cell marked below the threshold lies in
  0 … threshold − 1, one hidden to protect another is at least the threshold) for
  every hidden cell against an outsider, and for every hidden count of 1 … threshold − 1
  against every other unit with its own hidden cells fixed at their values; while one
  is pinned to a single value, a nearby free cell is hidden too (not the attacker's:
  it knows it). A cell the country's numbers pin whatever is hidden is left as it is
  (``_inherent``). Guarantee (tested by recovery attacks, and by the independent
  audit, audit.py): no hidden cell can be worked out to one value.
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

import copy
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


NO_OWNER = -1  # a cell no single attacker knows (a sum over units: country, class, län)

# why a hidden cell is hidden (column ``hidden_reason`` and ``denominator_reason``):
# the count is below the threshold (0 too), or it is hidden to protect another count.
REASON_SMALL = "under_troskel"
REASON_PROTECT = "skyddar_annat"


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
    owner: list[int] = field(default_factory=list)  # who knows the cell: a unit's number, −1 nobody
    owner_now: int = NO_OWNER  # the owner of the cells added now (_protect sets it per area)

    def add(self, value: int, exempt: bool, order: tuple) -> int:
        self.value.append(int(value))
        self.hidden.append(False)
        self.exempt.append(exempt)
        self.order.append(order)
        self.owner.append(self.owner_now)
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
    """Every count below the threshold, zero too (the zero policy, module docstring);
    a small base hides its group; a multi-choice row whose complement N − n is below
    the threshold (0 too: "100 %" says something of every case)."""
    if area.exempt:
        return
    n = area.table["n"].to_list()
    d = area.table["denominator"].to_list()
    for row in range(area.table.height):
        small_n = n[row] < threshold
        rest = d[row] - n[row]
        small_rest = (area.kind == "multi" and 0 <= rest < threshold) or (
            area.kind == "phases" and 0 < rest < threshold
        )
        if small_n or small_rest:
            cells.hidden[area.n_cell[row]] = True
        if d[row] < threshold:  # rule (b): the whole group
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
        self.owner = np.array(cells.owner, dtype=np.int64)
        self.order = cells.order
        # a base (N) is hidden as a secondary cell only when nothing else will do: an
        # area's size is published elsewhere (the reports' text), and a hidden N hides
        # its whole table
        self.base = np.array([o[2] == 0 for o in cells.order], dtype=bool)
        # secondary choice: the smallest published cell, then order
        self.rank = _rank([(v, o) for v, o in zip(cells.value, cells.order)])
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


def _candidate(
    p: _Problem, members: np.ndarray, avoid: Collection[int] = (), counts: np.ndarray | None = None
) -> int | None:
    """The best free member to hide: not exempt, not owned by an owner in ``avoid``
    (hiding a cell its attacker knows does not help against it); with ``counts``
    (hidden members per relation) the one that opens the fewest relations with no
    hidden member yet (each would need a further cell), then the smallest."""
    free = members[~p.hidden[members] & ~p.exempt[members]]
    if len(avoid):
        free = free[~np.isin(p.owner[free], list(avoid))]
    if not free.size:
        return None
    if counts is None:
        return int(free[np.argmin(p.rank[free])])
    col = p.relations_of
    opened = np.array([int((counts[col.indices[col.indptr[c] : col.indptr[c + 1]]] == 0).sum()) for c in free])
    return int(free[np.lexsort((p.rank[free], opened, p.base[free]))[0]])


def _needs_more(p: _Problem, relation: int) -> tuple[int, ...] | None:
    """None when no single attacker can solve this relation for one hidden member;
    else the owners a further hidden member must not belong to. An outsider solves a
    relation with one hidden member; a unit that knows its own cells solves one where
    all hidden members but one are its own."""
    members = p.members(relation)
    hidden = members[p.hidden[members]]
    if hidden.size == 0:
        return None
    if hidden.size == 1:
        return ()
    owners, counts = np.unique(p.owner[hidden], return_counts=True)
    knowing = owners[(counts == hidden.size - 1) & (owners != NO_OWNER)]
    return tuple(int(o) for o in knowing) if knowing.size else None


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
    """Until no additive relation can be solved for one hidden member, by an outsider
    or by a unit that knows its own cells (``_needs_more``). Each sweep takes the
    relations in their order and sees the cells hidden earlier in the same sweep."""
    counts = np.asarray(p.relations @ p.hidden.astype(np.int64)).astype(np.int64)
    changed = True
    while changed:
        changed = _hide_rows_of_hidden_n(p, counts)
        for relation in np.flatnonzero(counts >= 1):
            avoid = _needs_more(p, int(relation))
            while avoid is not None:
                pick = _candidate(p, p.members(int(relation)), avoid, counts)
                if pick is None:
                    raise SuppressionError(
                        "en dold cell kan räknas fram ur publicerade tal och ingen annan cell "
                        "kan döljas (alla övriga hör till områden som publiceras utan skydd)"
                    )
                p.hide(pick, counts)
                changed = True
                avoid = _needs_more(p, int(relation))


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


class _Attack:
    """The attacker's linear programme over every cell of one table: a published cell
    is fixed to its value by its bounds, a hidden one is free, and a unit's attack
    fixes its own hidden cells as well. ``marks``: the attacker also reads the marks
    (a cell marked as below the threshold lies in 0 … threshold − 1, one hidden to
    protect another is at least the threshold); without them only the arithmetic
    (x ≥ 0). HiGHS keeps its basis between the many solves."""

    def __init__(self, p: _Problem, threshold: int, marks: bool):
        self.p, self.threshold, self.marks = p, threshold, marks
        self.shown = p.hidden.copy()
        low, high = self.bounds()
        eq = np.arange(p.constraint.shape[0]) < p.n_eq
        self.lp = _LinearProgramme(p.constraint, np.zeros(len(eq)), eq, low, high)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        p, value = self.p, self.p.value.astype(float)
        low, high = np.where(p.hidden, 0.0, value), np.where(p.hidden, np.inf, value)
        if self.marks:
            small = p.hidden & (p.value < self.threshold)
            high = np.where(small, self.threshold - 1.0, high)
            low = np.where(p.hidden & ~small, float(self.threshold), low)
        return low, high

    def sync(self) -> None:
        """Bring the programme's bounds to the problem's hidden cells (after hiding, or undoing)."""
        changed = np.flatnonzero(self.shown != self.p.hidden)
        if changed.size:
            low, high = self.bounds()
            self.lp.bound(changed, low[changed], high[changed])
            self.shown = self.p.hidden.copy()

    def spread_points(self, cells: np.ndarray, attacker: int, seed: int) -> list[np.ndarray]:
        """Points that move many ``cells`` at once for ``attacker`` (a random direction
        over them, least and largest): one pair of solves frees most of the cells, so
        that few need a programme of their own."""
        p = self.p
        fixed = np.flatnonzero(p.hidden & (p.owner == attacker)) if attacker != NO_OWNER else np.array([], int)
        if fixed.size:
            self.lp.bound(fixed, p.value[fixed].astype(float), p.value[fixed].astype(float))
        c = np.zeros(len(p.value))
        c[cells] = np.random.default_rng(seed).uniform(0.5, 1.5, len(cells))
        out = [x for sign in (1.0, -1.0) if (x := self.lp.minimise(sign * c)[1]) is not None]
        if fixed.size:
            low, high = self.bounds()
            self.lp.bound(fixed, low[fixed], high[fixed])
        return out

    def extremes(self, cell: int, attacker: int) -> list[np.ndarray | None]:
        """The points where ``cell`` is least and largest for ``attacker`` (NO_OWNER: an
        outsider); None for an unbounded side."""
        p = self.p
        fixed = np.flatnonzero(p.hidden & (p.owner == attacker)) if attacker != NO_OWNER else np.array([], int)
        value = p.value[fixed].astype(float)
        if fixed.size:
            self.lp.bound(fixed, value, value)
        c = np.zeros(len(p.value))
        out = []
        for sign in (1.0, -1.0):
            c[cell] = sign
            out.append(self.lp.minimise(c)[1])
        if fixed.size:
            low, high = self.bounds()
            self.lp.bound(fixed, low[fixed], high[fixed])
        return out


class _Pool:
    """Points the attacker's programme returned (each a possible truth), kept per cell
    as (point, change of the cell); a point is a possible truth for every attacker
    whose own cells it leaves unchanged (``touched``: per point, the owners it moves)."""

    def __init__(self, p: _Problem):
        self.p = p
        self.owners = int(p.owner.max()) + 1 if p.owner.size else 0
        self.moves: dict[int, tuple[list[int], list[float]]] = {}
        self.touched: list[np.ndarray] = []
        self.unbounded: dict[int, set[int]] = {}  # cell → attackers it is unbounded for

    def add(self, x: np.ndarray) -> None:
        delta = x - self.p.value
        moved = np.flatnonzero(np.abs(delta) > 1e-7)
        touched = np.zeros(self.owners + 1, dtype=bool)  # the last: NO_OWNER, never an attacker's
        touched[self.p.owner[moved]] = True
        touched[-1] = False
        point = len(self.touched)
        self.touched.append(touched)
        for c in moved.tolist():
            ids, deltas = self.moves.setdefault(c, ([], []))
            ids.append(point)
            deltas.append(float(delta[c]))

    def spreads(self, cell: int, attackers: np.ndarray) -> np.ndarray:
        """The widest the pool shows ``cell`` to be for each attacker (the truth included)."""
        ids, deltas = self.moves.get(cell, ([], []))
        out = np.zeros(len(attackers))
        if ids:
            valid = ~np.array([self.touched[k] for k in ids])[:, attackers]  # NO_OWNER → the last column
            d = np.where(valid, np.array(deltas)[:, None], 0.0)
            out = np.maximum(d.max(axis=0), 0.0) - np.minimum(d.min(axis=0), 0.0)
        endless = self.unbounded.get(cell, set())
        if endless:
            out[np.isin(attackers, list(endless))] = np.inf
        return out


def _attackers(p: _Problem, cell: int, threshold: int) -> np.ndarray:
    """Who must not pin a hidden cell: an outsider; for a count of 1 … threshold − 1 also
    every other unit with hidden cells in the table (a unit without any knows nothing
    an outsider does not)."""
    if not 1 <= p.value[cell] < threshold:
        return np.array([NO_OWNER])
    units = np.unique(p.owner[p.hidden & (p.owner != NO_OWNER)])
    return np.concatenate([[NO_OWNER], units[units != p.owner[cell]]])


def _failing(p: _Problem, attacks: dict, pools: dict, cell: int, marks: bool, width: float, attackers) -> int | None:
    """The first attacker for whom ``cell`` is narrower than ``width``, solving the
    attacker's programme where the pool does not already show it wide enough."""
    pool = pools[marks]
    while True:
        short = attackers[pool.spreads(cell, attackers) < width]
        if not short.size:
            return None
        attacker = int(short[0])
        attacks[marks].sync()
        for x in attacks[marks].extremes(cell, attacker):
            if x is None:
                pool.unbounded.setdefault(cell, set()).add(attacker)
            else:
                pool.add(x)
        if pool.spreads(cell, np.array([attacker]))[0] < width:
            return attacker


def _requirements(threshold: int, small: bool) -> list[tuple[bool, float]]:
    """(with marks, least width) a hidden cell must meet: not pinned to one value by
    what is published and by the marks (a cell marked below the threshold lies in
    0 … threshold − 1, one hidden to protect another is at least the threshold): every
    hidden cell against an outsider, a count of 1 … threshold − 1 also against every
    other unit (``_attackers``). What the marks leave open the arithmetic alone leaves
    open too. (The independent audit, audit.py, also measures the interval's width.)"""
    return [(True, PINNED)]


AUDIT_TRIALS = 40


def _hide_one_more(p: _Problem, attacks: dict, pools: dict, cell: int, need: tuple, attacker: int) -> None:
    """Try the free cells that share a constraint with ``cell`` (not the attacker's),
    best first, and keep the first that, with its secondary cells, meets the
    requirement for this attacker; else hide the best of them (or one further out)."""
    seen = np.zeros(len(p.value), dtype=bool)
    seen[cell] = True
    while True:
        ring = p.ring(seen)
        if not ring.any():
            raise SuppressionError("en dold cell kan räknas fram och ingen annan cell kan döljas")
        free = np.flatnonzero(ring & ~p.hidden & ~p.exempt & ((p.owner != attacker) | (attacker == NO_OWNER)))
        if free.size:
            break
        seen |= ring
    counts = np.asarray(p.relations @ p.hidden.astype(np.int64)).ravel()
    col = p.relations_of
    opened = np.array([int((counts[col.indices[col.indptr[c] : col.indptr[c + 1]]] == 0).sum()) for c in free])
    ordered = free[np.lexsort((p.rank[free], opened, p.base[free]))]
    one = np.array([attacker])
    for c in ordered[:AUDIT_TRIALS]:
        before = p.hidden.copy()
        p.hidden[c] = True
        _secondary(p)
        if _failing(p, attacks, pools, cell, *need, one) is None:
            return
        p.hidden = before
    p.hidden[ordered[0]] = True
    _secondary(p)


def _inherent(p: _Problem, threshold: int, marks: bool) -> _Attack:
    """The attacker's programme with every cell hidden that may be hidden: what the
    published national numbers (and the marks) give away whatever is hidden. A cell
    pinned even there is disclosed by the national tables, not by the areas' (e.g.
    every unit's count of a category the country has none of)."""
    everything = copy.copy(p)
    everything.hidden = ~p.exempt
    return _Attack(everything, threshold, marks)


def _audit(p: _Problem, threshold: int) -> None:
    """Hide more until no hidden cell is pinned by an outsider, and no hidden count of
    1 … threshold − 1 is pinned by another unit or left narrower than the threshold by
    the arithmetic alone, with and without the marks (``_requirements``), unless the
    national numbers alone pin it (``_inherent``). Points found stay possible truths
    when more is hidden (hiding only frees cells), so a requirement once met stays met:
    each hidden cell is settled once."""
    attacks = {marks: _Attack(p, threshold, marks) for marks in (True,)}
    pools = {marks: _Pool(p) for marks in (True,)}
    limits = {marks: _Pool(p) for marks in (True,)}
    limit_attacks: dict[bool, _Attack] = {}
    settled = np.zeros(len(p.value), dtype=bool)
    small = np.flatnonzero(p.hidden & (p.value >= 1) & (p.value < threshold))
    if small.size:
        units = np.unique(p.owner[p.hidden & (p.owner != NO_OWNER)]).tolist()
        for seed, attacker in enumerate([NO_OWNER, *units]):
            for x in attacks[True].spread_points(small[p.owner[small] != attacker], attacker, seed):
                pools[True].add(x)
    for _ in range(len(p.value) + 1):
        todo = np.flatnonzero(p.hidden & ~settled)
        if not todo.size:
            return
        for cell in todo[np.argsort(p.rank[todo], kind="stable")].tolist():
            small = 1 <= p.value[cell] < threshold
            for need in _requirements(threshold, small):
                while (
                    attacker := _failing(p, attacks, pools, cell, *need, _attackers(p, cell, threshold))
                ) is not None:
                    if need[0] not in limit_attacks:
                        limit_attacks[need[0]] = _inherent(p, threshold, need[0])
                    one = np.array([attacker])
                    if _failing(limit_attacks[need[0]].p, limit_attacks, limits, cell, *need, one) is not None:
                        pools[need[0]].unbounded.setdefault(cell, set()).add(attacker)  # cannot be helped
                        continue
                    _hide_one_more(p, attacks, pools, cell, need, attacker)
            settled[cell] = True
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
            _reason(hide_n_s, table["n"], threshold).alias("hidden_reason"),
            _reason(pl.Series(hide_d), table["denominator"], threshold).alias("denominator_reason"),
        )
        .select(*table.columns, *REASON_COLUMNS)
    )
    starts = np.cumsum([0, *(a.table.height for a in areas)])
    return [out.slice(int(starts[k]), a.table.height) for k, a in enumerate(areas)]


REASON_COLUMNS = ("hidden_reason", "denominator_reason")


def _reason(hidden: pl.Series, value: pl.Series, threshold: int) -> pl.Series:
    """Why each hidden value is hidden: REASON_SMALL for a count below the threshold,
    REASON_PROTECT for one hidden to protect another (null where shown). A mark says
    no more than that: below the threshold or not."""
    small = (value < threshold).fill_null(True)
    out = pl.Series([REASON_SMALL if s else REASON_PROTECT for s in small.to_list()], dtype=pl.String)
    return pl.select(pl.when(hidden).then(out).otherwise(None)).to_series()


def _apply_all(hidden: np.ndarray, areas: Mapping[str, _Area], threshold: int) -> dict[str, pl.DataFrame]:
    """Every area's published table (exempt areas as they are, with empty reasons), in
    the areas' order."""
    by_schema: dict[tuple, list[_Area]] = {}
    for area in areas.values():
        if not area.exempt:
            by_schema.setdefault(tuple(area.table.schema.items()), []).append(area)
    done = {}
    for group in by_schema.values():
        done.update(zip((a.name for a in group), _apply(hidden, group, threshold)))
    empty = [pl.lit(None, pl.String).alias(c) for c in REASON_COLUMNS]
    return {name: (area.table.with_columns(empty) if area.exempt else done[name]) for name, area in areas.items()}


def _protect(
    tables: Mapping[str, pl.DataFrame],
    threshold: int,
    totals: Mapping[str, Sequence[str]],
    exempt: Collection[str],
    kinds: Mapping[str, str],
    phase_rows: Sequence[Mapping[str, Any]] | None = None,
    owners: Mapping[str, str | None] | None = None,
    sums: Sequence[tuple[str, Sequence[str]]] = (),
) -> tuple[np.ndarray, dict[str, _Area]]:
    cells = _Cells()
    areas = {}
    owner_ids: dict[str, int] = {}
    for i, (name, table) in enumerate(tables.items()):
        kind = kinds.get(name) or infer_kind(table)
        if kind not in KINDS:
            raise ValueError(f"okänd tabelltyp {kind!r} (en av {KINDS})")
        owner = (owners or {}).get(name)
        cells.owner_now = NO_OWNER if owner is None else owner_ids.setdefault(owner, len(owner_ids))
        areas[name] = _build_area(cells, i, name, table, kind, name in exempt, phase_rows)
    for total, parts in [*totals.items(), *sums]:
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
    owners: Mapping[str, str | None] | None = None,
    reasons: bool = False,
    sums: Sequence[tuple[str, Sequence[str]]] = (),
) -> dict[str, pl.DataFrame]:
    """Suppress the same diagram's tables for several published areas consistently.

    ``tables_by_area``: area name → table (same rows in the same order in every area).
    ``totals``: area → the areas it is the sum of, e.g. ``{"Riket": ["Arboga", "Övriga"],
    "Region": ["Arboga", "Köping"]}``; default: the first area is the sum of all others.
    ``exempt``: areas published as they are (the national tables): never suppressed,
    never chosen as a secondary cell. ``kinds``: the table kind (``Diagram.table``) for
    all areas or per area; inferred when missing. ``phase_rows``: diagram 1's registry
    rows (label, base, flag/valid), default the registry's. ``owners``: area → the
    attacker who knows its numbers (a unit's name; one unit's areas of several rounds
    share it), None or missing for sums no single attacker knows; without it only an
    outsider attacks. ``sums``: more (total, parts) relations that follow from
    ``totals`` (the country = Σ size classes): the LP knows them anyway, the secondary
    step only when they are named. ``reasons``: add ``hidden_reason`` and ``denominator_reason``
    (REASON_SMALL, REASON_PROTECT or null) to every table.

    Returns area → suppressed table (exempt areas unchanged). No hidden cell can be
    worked out (see the module docstring)."""
    names = list(tables_by_area)
    if totals is None:
        totals = {names[0]: names[1:]} if len(names) > 1 else {}
    if isinstance(kinds, str):
        kinds = dict.fromkeys(names, kinds)
    hidden, areas = _protect(tables_by_area, threshold, totals, set(exempt), kinds or {}, phase_rows, owners, sums)
    out = _apply_all(hidden, areas, threshold)
    return out if reasons else {name: t.drop(REASON_COLUMNS) for name, t in out.items()}


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
