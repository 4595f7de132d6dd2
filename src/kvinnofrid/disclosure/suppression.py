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
* **Secondary suppression** (kvinnofrid.disclosure.protection, whose docstring has
  the model): every published count of one table, all areas and rounds, becomes a
  cell with its relations — in a single-choice table N = Σ categories (rule a), across
  areas total = Σ parts cell by cell and for the denominators (rule d: the country =
  Σ units, a län, size class or group = Σ its units), diagram 1's rows linked through
  the registry's ``rows``, a unit unchanged since an earlier round equal to itself
  then. For every hidden count of 1 … threshold − 1 a linear programme finds a
  *witness* — another table agreeing with everything published and every mark that
  moves the count to 0 and to threshold − 1 — for the outsider, for every unit but
  the owner (its own cells fixed) and for pairs of units; the published cells a
  witness moves are hidden. Where the country's numbers leave less room whatever is
  hidden, the requirement is what they leave. Never a member of an exempt
  (national) area, never a base the reader knows from elsewhere (``public_bases``).
* **Audit.** kvinnofrid.disclosure.audit attacks the result with code of its own.
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

from kvinnofrid.disclosure import protection
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
    fixed: list[bool] = field(default_factory=list)  # published elsewhere: never hidden to protect another
    complements: list[tuple[int, int]] = field(default_factory=list)  # (N, n) rows hidden for a small N − n

    def add(self, value: int, exempt: bool, order: tuple) -> int:
        self.value.append(int(value))
        self.hidden.append(False)
        self.exempt.append(exempt)
        self.order.append(order)
        self.owner.append(self.owner_now)
        self.fixed.append(False)
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
        if small_rest and not small_n and area.n_cell[row] != area.d_cell[row]:
            cells.complements.append((area.d_cell[row], area.n_cell[row]))
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


# The cost of hiding a published cell (protection.Layout.weight) grows with the count,
# as in tau-ARGUS's default of hiding as few cases as possible, but with its logarithm,
# so that a few small cells do not outweigh one large one: a län's or a class's counts
# are what its readers compare, and hiding one hides the most cases. With a flat cost
# (pooled areas a little cheaper than units) 66 % of the län cells of a 290-municipality
# set were hidden, with this one 49 %, for 4 percentage points more of the units' cells
# (50 → 54 %). A base N costs most: it hides its whole group. Ties go to the smaller
# count, then to the cells' order.
BASE_WEIGHT = 20.0


def _layout(cells: _Cells, threshold: int) -> protection.Layout:
    """The cells as protection.Layout's arrays: the attacker's constraints, each cell's
    capacity and cost."""
    n = len(cells.value)
    value = np.array(cells.value, dtype=np.int64)
    owner = np.array(cells.owner, dtype=np.int64)
    base = np.array([o[2] == 0 for o in cells.order], dtype=bool)
    rank = np.empty(n)
    rank[sorted(range(n), key=lambda k: (cells.value[k], cells.order[k]))] = np.arange(n)
    weight = 1 + np.log1p(np.maximum(value, 0))
    weight = np.where(base, BASE_WEIGHT, weight) + rank * (1e-4 / max(n, 1))
    upper = [(a, b) for a, b in cells.upper if a != b]
    lists = [*cells.relations, *cells.at_least, *upper]
    coefs = np.fromiter((1.0 if k == 0 else -1.0 for m in lists for k in range(len(m))), dtype=float)
    return protection.Layout(
        value=value,
        hidden=np.array(cells.hidden, dtype=bool),
        movable=~(np.array(cells.exempt, dtype=bool) | np.array(cells.fixed, dtype=bool)),
        owner=owner,
        weight=weight,
        constraint=_membership(lists, n, coefs),
        n_eq=len(cells.relations),
        rows=np.array(cells.rows, dtype=np.int64).reshape(-1, 2),
        complements=np.array(cells.complements, dtype=np.int64).reshape(-1, 2),
    )


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
    public_bases: Collection[str] = (),
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
    for name in public_bases:
        for cell in areas[name].d_cell:
            cells.fixed[cell] = True
    for area in areas.values():
        _primary(cells, area, threshold)
    layout = _layout(cells, threshold)
    report = protection.protect(layout, threshold, pairs=any(o is not None for o in (owners or {}).values()))
    if report.pinned:
        raise SuppressionError(
            f"{len(report.pinned)} dolda små tal går att räkna fram ur tal som visas utan skydd (riket)"
        )
    return layout.hidden, areas


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
    public_bases: Collection[str] = (),
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
    outsider attacks. ``public_bases``: areas whose base N the reader knows from
    elsewhere (a report's text gives the area's number of cases): never hidden to
    protect another cell. ``reasons``: add ``hidden_reason`` and ``denominator_reason``
    (REASON_SMALL, REASON_PROTECT or null) to every table.

    Returns area → suppressed table (exempt areas unchanged). No hidden cell can be
    worked out (see the module docstring)."""
    names = list(tables_by_area)
    if totals is None:
        totals = {names[0]: names[1:]} if len(names) > 1 else {}
    if isinstance(kinds, str):
        kinds = dict.fromkeys(names, kinds)
    hidden, areas = _protect(
        tables_by_area, threshold, totals, set(exempt), kinds or {}, phase_rows, owners, public_bases
    )
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
