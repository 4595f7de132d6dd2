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

from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.statistics.tables import TABLE_SCHEMA, wilson_interval

DEFAULT_THRESHOLD = 5

# table kinds (tables.TABLE_FUNCTIONS names → how the rows relate)
SINGLE_KINDS = ("single", "histogram", "flag")   # categories sum to N per group
BINARY_KINDS = ("multi", "phases")               # each row: n of N (and N − n)
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
        pl.col("n").sum().alias("total"), pl.col("denominator").n_unique().alias("k"),
        pl.col("denominator").first().alias("d"))
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
    order: list[tuple] = field(default_factory=list)        # tie-break (deterministic)
    relations: list[tuple[int, ...]] = field(default_factory=list)   # first = Σ rest
    upper: list[tuple[int, int]] = field(default_factory=list)       # (n, N): n ≤ N
    at_least: list[tuple[int, ...]] = field(default_factory=list)    # (N, n…): Σ n ≥ N
    rows: list[tuple[int, int]] = field(default_factory=list)        # (N, n) of a row

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
    n_cell: list[int]        # per row
    d_cell: list[int]        # per row (shared within a group for single/multi)


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


def _phase_cells(cells: _Cells, index: int, table: pl.DataFrame, exempt: bool,
                 phase_rows: Sequence[Mapping[str, Any]]) -> tuple[list[int], list[int]]:
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


def _build_area(cells: _Cells, index: int, name: str, table: pl.DataFrame, kind: str,
                exempt: bool, phase_rows: Sequence[Mapping[str, Any]] | None = None) -> _Area:
    n = table["n"].to_list()
    d = table["denominator"].to_list()
    groups = table["group"].to_list()
    n_cell, d_cell = [], []
    d_of_group: dict = {}
    if kind == "phases":
        n_cell, d_cell = _phase_cells(cells, index, table, exempt,
                                      phase_rows if phase_rows is not None else default_phase_rows())
    for row in range(table.height if kind != "phases" else 0):
        n_cell.append(cells.add(n[row], exempt, (index, row, 1)))
        if kind == "means":
            d_cell.append(n_cell[-1])                      # N = n: the same count
        else:                                              # one N per group
            if groups[row] not in d_of_group:
                d_of_group[groups[row]] = cells.add(d[row], exempt, (index, row, 0))
            d_cell.append(d_of_group[groups[row]])
    area = _Area(name, table, kind, exempt, n_cell, d_cell)
    cells.rows.extend(zip(d_cell, n_cell))
    if kind in SINGLE_KINDS:                               # rule (a): N = Σ categories
        for group in dict.fromkeys(groups):
            rows = [r for r in range(table.height) if groups[r] == group]
            cells.relations.append((d_cell[rows[0]], *[n_cell[r] for r in rows]))
    if kind in BINARY_KINDS:
        cells.upper.extend((n_cell[r], d_cell[r]) for r in range(table.height))
    if kind == "multi":                                    # every case chose ≥ 1 option
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
        if 0 < d[row] < threshold:                         # rule (b): the whole group
            cells.hidden[area.d_cell[row]] = True
            cells.hidden[area.n_cell[row]] = True


def _candidate(cells: _Cells, members: Sequence[int]) -> int | None:
    free = [c for c in members if not cells.hidden[c] and not cells.exempt[c]]
    if not free:
        return None
    return min(free, key=lambda c: (cells.value[c] == 0, cells.value[c], cells.order[c]))


def _secondary(cells: _Cells) -> None:
    """Until no additive relation has exactly one hidden member."""
    changed = True
    while changed:
        changed = False
        for d_c, n_c in cells.rows:           # a hidden N hides its rows (share = n/N)
            if cells.hidden[d_c] and not cells.hidden[n_c]:
                cells.hidden[n_c] = changed = True
        for relation in cells.relations:
            hidden = [c for c in relation if cells.hidden[c]]
            if len(hidden) != 1:
                continue
            pick = _candidate(cells, relation)
            if pick is None:
                raise SuppressionError(
                    "en dold cell kan räknas fram ur publicerade tal och ingen annan cell "
                    "kan döljas (alla övriga hör till områden som publiceras utan skydd)")
            cells.hidden[pick] = True
            changed = True


# ---------------------------------------------------------------- the audit (attacker's LP)

class _Attacker:
    """The attacker's linear programme: unknowns = the hidden cells; every relation,
    0 ≤ x, n ≤ N (two-way rows) and Σ n ≥ N (multi-choice) over the published cells."""

    def __init__(self, cells: _Cells):
        self.cells = cells
        self.pos = {c: j for j, c in enumerate(i for i, h in enumerate(cells.hidden) if h)}
        a_eq, b_eq, a_ub, b_ub = [], [], [], []
        for relation in cells.relations:                   # first − Σ rest = 0
            self._row([(c, 1.0 if k == 0 else -1.0) for k, c in enumerate(relation)], a_eq, b_eq)
        for d_c, *n_cs in cells.at_least:                  # N − Σ n ≤ 0
            self._row([(d_c, 1.0), *((c, -1.0) for c in n_cs)], a_ub, b_ub)
        for n_c, d_c in cells.upper:                       # n − N ≤ 0
            if n_c != d_c:
                self._row([(n_c, 1.0), (d_c, -1.0)], a_ub, b_ub)
        self.kwargs = dict(A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None,
                           A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None,
                           bounds=[(0, None)] * len(self.pos), method="highs")

    def _row(self, terms, a, b) -> None:
        row, rhs = np.zeros(len(self.pos)), 0.0
        for c, coef in terms:
            if c in self.pos:
                row[self.pos[c]] += coef
            else:
                rhs -= coef * self.cells.value[c]
        if row.any():
            a.append(row)
            b.append(rhs)

    def interval(self, terms: Sequence[tuple[int, float]]) -> tuple[float, float]:
        """Smallest and largest value of Σ coef·cell consistent with the published cells."""
        from scipy.optimize import linprog

        objective, const = np.zeros(len(self.pos)), 0.0
        for c, coef in terms:
            if c in self.pos:
                objective[self.pos[c]] += coef
            else:
                const += coef * self.cells.value[c]
        if not objective.any():
            return const, const
        low = linprog(objective, **self.kwargs)
        high = linprog(-objective, **self.kwargs)
        return (const + (low.fun if low.status == 0 else -np.inf),
                const + (-high.fun if high.status == 0 else np.inf))


def _exposed(cells: _Cells, threshold: int) -> list[tuple[int, ...]]:
    """Hidden small counts (a cell, or a two-way row's N − n) that the published cells
    pin to one value; each as the cells to look around, in a fixed order."""
    attacker = _Attacker(cells)
    targets: list[tuple[tuple[int, ...], list[tuple[int, float]]]] = []
    for c, h in enumerate(cells.hidden):
        if h and 0 < cells.value[c] < threshold:
            targets.append(((c,), [(c, 1.0)]))
    for n_c, d_c in cells.upper:
        rest = cells.value[d_c] - cells.value[n_c]
        if n_c != d_c and 0 < rest < threshold and (cells.hidden[n_c] or cells.hidden[d_c]):
            targets.append(((n_c, d_c), [(d_c, 1.0), (n_c, -1.0)]))
    out = []
    for around, terms in sorted(targets, key=lambda t: [cells.order[c] for c in t[0]]):
        low, high = attacker.interval(terms)
        if high - low < 1 - 1e-9:
            out.append(around)
    return out


def _nearest_candidate(cells: _Cells, around: set[int]) -> int | None:
    """The best cell to hide among those sharing a constraint with ``around``; if none
    is free, one constraint further out, and so on."""
    constraints = [set(r) for r in (*cells.relations, *cells.at_least, *cells.upper)]
    seen = set(around)
    while True:
        ring = {m for r in constraints if r & seen for m in r} - seen
        if not ring:
            return None
        pick = _candidate(cells, sorted(ring))
        if pick is not None:
            return pick
        seen |= ring


def _still_exposed(cells: _Cells, around: tuple[int, ...], threshold: int) -> bool:
    """Is this one target (a cell, or a row's N − n) still pinned to one value?"""
    if len(around) == 1:
        terms = [(around[0], 1.0)]
    else:
        n_c, d_c = around
        terms = [(d_c, 1.0), (n_c, -1.0)]
    low, high = _Attacker(cells).interval(terms)
    return high - low < 1 - 1e-9


AUDIT_TRIALS = 40


def _free_by_one_more(cells: _Cells, around: tuple[int, ...], threshold: int) -> bool:
    """Try the free cells that share a constraint with the target, best first (zeros
    too: a published zero beside a small count is often what pins it), and hide the
    first one that, with its secondary cells, leaves the target more than one value.
    Without this the audit hides the nearest cell blindly and may need a full pass per
    hidden cell when units, size classes and län overlap."""
    constraints = [set(r) for r in (*cells.relations, *cells.at_least, *cells.upper)]
    ring = sorted({m for r in constraints if r & set(around) for m in r} - set(around))
    free = [c for c in ring if not cells.hidden[c] and not cells.exempt[c]]
    free.sort(key=lambda c: (cells.value[c], cells.order[c]))
    for c in free[:AUDIT_TRIALS]:
        before = list(cells.hidden)
        cells.hidden[c] = True
        _secondary(cells)
        if not _still_exposed(cells, around, threshold):
            return True
        cells.hidden = before
    return False


def _audit(cells: _Cells, threshold: int) -> None:
    """Hide more while a hidden small count can be pinned to one value.

    A pass solves the attacker's problem for every target; then each exposed target,
    in a fixed order, gets one more hidden cell next to it unless the cells hidden
    earlier in the same pass already freed it (checked on that target alone). With many
    overlapping areas (units, size classes, län) this needs a few passes instead of
    one full pass per hidden cell."""
    for _ in range(len(cells.value) + 1):
        exposed = _exposed(cells, threshold)
        if not exposed:
            return
        for k, around in enumerate(exposed):
            if k > 0 and not _still_exposed(cells, around, threshold):
                continue
            if _free_by_one_more(cells, around, threshold):
                continue
            pick = _nearest_candidate(cells, set(around))
            if pick is None:
                raise SuppressionError("en dold cell kan räknas fram och ingen annan cell kan döljas")
            cells.hidden[pick] = True
            _secondary(cells)
    raise SuppressionError("skyddet av små tal konvergerade inte")


# ---------------------------------------------------------------- applying

def _apply(cells: _Cells, area: _Area, threshold: int) -> pl.DataFrame:
    table = area.table
    hide_n = np.array([cells.hidden[c] for c in area.n_cell], dtype=bool)
    hide_d = np.array([cells.hidden[c] for c in area.d_cell], dtype=bool)
    # a mean based on fewer cases than the threshold goes with its n
    small_mean = (table["n"] < threshold).to_numpy() & table["mean"].is_not_null().to_numpy()
    # a hidden N hides its rows too: a share n/N would give N away (and the contract
    # says a suppressed row has n, share and CIs empty)
    hide_row = hide_n | small_mean | hide_d
    hide_n_s = pl.Series(hide_row)
    return table.with_columns(
        pl.when(hide_n_s).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("n", "share", "ci_low", "ci_high", "mean")
    ).with_columns(
        pl.when(pl.Series(hide_d)).then(None).otherwise(pl.col("denominator")).alias("denominator"),
        (pl.col("suppressed").fill_null(False) | hide_n_s).alias("suppressed"),
    ).select(table.columns)


def _protect(tables: Mapping[str, pl.DataFrame], threshold: int,
             totals: Mapping[str, Sequence[str]], exempt: Collection[str],
             kinds: Mapping[str, str],
             phase_rows: Sequence[Mapping[str, Any]] | None = None) -> tuple[_Cells, dict[str, _Area]]:
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
    _secondary(cells)
    _audit(cells, threshold)
    return cells, areas


def suppress_complements(tables_by_area: Mapping[str, pl.DataFrame], threshold: int = DEFAULT_THRESHOLD,
                         *, totals: Mapping[str, Sequence[str]] | None = None,
                         exempt: Collection[str] = (), kinds: Mapping[str, str] | str | None = None,
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
    cells, areas = _protect(tables_by_area, threshold, totals, set(exempt), kinds or {}, phase_rows)
    return {name: (area.table if area.exempt else _apply(cells, area, threshold))
            for name, area in areas.items()}


def subtract(total: pl.DataFrame, part: pl.DataFrame) -> pl.DataFrame:
    """The rest = total − part, cell by cell (n and denominator; shares recomputed,
    means dropped): what anyone can derive from a national and a unit table."""
    if _key(total) != _key(part):
        raise ValueError("tabellerna har inte samma rader (grupp, kategori) i samma ordning: "
                         "bygg enhetens tabell med rikets kategorier")
    n = (total["n"] - part["n"]).to_numpy()
    d = (total["denominator"] - part["denominator"]).to_numpy()
    low, high = wilson_interval(n, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(d > 0, n / np.where(d > 0, d, 1), np.nan)
    has_share = total["share"].is_not_null().to_numpy()
    return total.with_columns(
        pl.Series("n", n, dtype=pl.Int64), pl.Series("denominator", d, dtype=pl.Int64),
        pl.Series("share", np.where(has_share, share, np.nan)).fill_nan(None),
        pl.Series("ci_low", np.where(has_share, low, np.nan)).fill_nan(None),
        pl.Series("ci_high", np.where(has_share, high, np.nan)).fill_nan(None),
        pl.lit(None, pl.Float64).alias("mean"), pl.lit(False).alias("suppressed"),
    ).select(TABLE_SCHEMA.names())


def suppress_table(table: pl.DataFrame, threshold: int = DEFAULT_THRESHOLD, *,
                   national: pl.DataFrame | None = None, kind: str | None = None,
                   phase_rows: Sequence[Mapping[str, Any]] | None = None) -> pl.DataFrame:
    """One table below national level (a unit, a region), suppressed.

    ``kind``: the registry's table function name (``Diagram.table``: single, multi,
    phases, means, histogram, flag); inferred when None (diagram 1 must be named).
    ``national``: the national table the report shows beside it. Then the rest
    (national − this table) is derivable by anyone and protected too — with two units
    in a region, "region − unit" *is* the other unit — so a cell is also hidden when
    the rest's cell is a small count, and hidden cells stay hidden in the rest."""
    if national is None:
        return suppress_complements({"area": table}, threshold, totals={},
                                    kinds={"area": kind} if kind else None, phase_rows=phase_rows)["area"]
    rest = subtract(national, table)
    kind = kind or infer_kind(table)
    out = suppress_complements(
        {"national": national, "area": table, "rest": rest}, threshold,
        totals={"national": ["area", "rest"]}, exempt={"national"},
        kinds=dict.fromkeys(("national", "area", "rest"), kind), phase_rows=phase_rows)
    return out["area"]
