"""The protected comparison tables below national level: one set per reporting unit and
one per län with at least two units (the unit reports of kvinnofrid.reporting.unit_report
only lay them out).

A unit's report shows its results beside the units of similar size (its municipality's
size class, config ``size_classes``) and beside the whole country; a län summary shows
the län beside the country. Every number those reports show comes from the tables of this module,
built by the same ``tables.build_table`` as the national tables and protected together
in one problem per table (``protect``), so that the reports cannot be combined to
recover a hidden count.

Areas and what is protected
---------------------------
* ``riket``: the national table, published as it is (docs/architecture.md).
* ``storleksklass``: all units of one size class; ``grupp``: all units of one
  comparison group from a grouping file (config comparison_groups); ``lan``: a län.
  Each is protected like a unit (its cells are sums no single unit knows: area = Σ its
  units), and published only with at least MIN_UNITS (3) units: with two, each unit
  would read the other's whole table off the sum.
* ``enhet``: one reporting unit; protected (suppression.py: primary, secondary and the
  attacker's audit), linked to the country (riket = Σ units) and to its class, group
  and län. The attacker knows one unit's own numbers (``owners``), or two units
  pool theirs.
* Every round's tables are protected together (``protect``): a unit whose data did
  not change after an earlier round has the same cells in both
  (``unchanged_units``), so the round shares cannot undo a hidden cell.

The internal edition of a unit's report (its own staff only) shows the unit's own
tables unprotected beside the country and its size class as published
(``internal_tables``); it is written to separate files and never enters ``protect``'s
output.

The suppression of all areas of one table is solved at once: a unit's hidden cell is
then hidden in the same way in every report that could give it away.

Rare categories are pooled first (``collapse``, the registry's per-diagram ``collapse``
pools): in every area of a comparison table alike, the country and the size classes
too, so the rows line up; the national tables themselves are never collapsed. A unit
with 30 cases then shows "Övriga 6" where it would have hidden three cells of 1–3.

Known limits: relations *between* tables of one area are not linked (a unit's HRV
count in diagram 5 and the N of another table; the unit reports show no HRV- or
sex-grouped tables, 21–25, for that reason), nor the Kolada key figures to diagram 2
(their sum over the years is the unit's count of women); the suppression's own audit
tries the arithmetic of what is published, the independent audit (audit.py) the
marks of the hidden cells as well.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from kvinnofrid.disclosure import kolada, suppression
from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec import municipalities
from kvinnofrid.spec.diagrams import Diagram, Pool, Registry, category_labels, load_registry, pooled_labels
from kvinnofrid.spec.names import slug
from kvinnofrid.statistics import tables as tables_module
from kvinnofrid.statistics import trend

NATIONAL = "Riket"
KINDS = ("riket", "storleksklass", "grupp", "enhet", "lan")
TOP_GROUP = "toppgrupp"
# An area that pools units is published only with at least this many: with two, each
# unit would read the other's whole table off the sum (sum − its own).
MIN_UNITS = 3
REASONS = suppression.REASON_COLUMNS
LONG_SCHEMA = pl.Schema(
    {
        "table": pl.String,
        "area_kind": pl.String,
        "area": pl.String,
        **tables_module.TABLE_SCHEMA,
        "hidden_reason": pl.String,
        "denominator_reason": pl.String,
    }
)


@dataclass(frozen=True)
class Area:
    kind: str  # one of KINDS
    name: str  # shown to readers: unit text, class label, län name
    slug: str  # file name of its report
    units: tuple[str, ...]  # the reporting units it pools
    title: str = ""  # how reports name it (municipalities.unit_titles), default the name


def areas_of(
    unit_meta: pl.DataFrame,
    size_classes: Mapping[str, str],
    class_order: Sequence[str] = (),
    groups: Mapping[str, str] | None = None,
) -> list[Area]:
    """Every published area. ``unit_meta``: one row per unit with ``unit``,
    ``unit_slug`` and ``lan`` (null where unknown); ``size_classes``: unit → class;
    ``class_order``: the classes in config order (default: sorted); ``groups``: unit →
    comparison group from a grouping file (config comparison_groups), areas of kind
    ``grupp``. A class, group or län of fewer than MIN_UNITS units is not an area."""
    meta = unit_meta.sort("unit")
    all_units = tuple(meta["unit"].to_list())
    out = [Area("riket", NATIONAL, "riket", all_units)]
    used = {size_classes[u] for u in all_units if u in size_classes}
    for label in [c for c in class_order if c in used] + sorted(used - set(class_order)):
        members = tuple(u for u in all_units if size_classes.get(u) == label)
        if len(members) >= MIN_UNITS:
            out.append(Area("storleksklass", label, slug(label), members))
    for label in sorted(set((groups or {}).values())):
        members = tuple(u for u in all_units if (groups or {}).get(u) == label)
        if len(members) >= MIN_UNITS:
            out.append(Area("grupp", label, slug(label), members))
    titles = dict(meta.select("unit", "title").iter_rows()) if "title" in meta.columns else {}
    out += [Area("enhet", u, s, (u,), titles.get(u) or u) for u, s in meta.select("unit", "unit_slug").iter_rows()]
    for lan in sorted(meta["lan"].drop_nulls().unique().to_list()):
        members = tuple(meta.filter(pl.col("lan") == lan)["unit"].to_list())
        if len(members) >= MIN_UNITS:
            out.append(Area("lan", lan, slug(lan), members))
    return out


def comparison_register(register_path: str | None, population_path: str | None, cutoff_year: int) -> pl.DataFrame:
    """The municipality register the size classes rest on: the packaged one or the
    user's, with SCB's population of the cut-off year when a population file is given
    (config kolada.population; never the made-up demo population)."""
    register = municipalities.load_register(register_path)
    scb = (
        municipalities.latest_population(kolada.total_population(population_path), cutoff_year)
        if population_path
        else None
    )
    return municipalities.with_population(register, scb)


def comparison_areas(
    latest_units: pl.DataFrame,
    register: pl.DataFrame,
    districts: Mapping[str, str],
    class_config: Sequence[Mapping[str, Any]],
    groups: Mapping[str, str] | None = None,
    with_size_classes: bool = True,
) -> tuple[list[Area], dict[str, str], dict[str, Any]]:
    """Every area of the comparison (areas_of), each unit's size class and each unit's
    län, for the units of ``latest_units`` (one row per unit: unit, unit_slug, kommun …).
    ``groups``: kommunkod → comparison group (municipalities.read_groups), instead of
    the size classes or, ``with_size_classes``, beside them."""
    placed = municipalities.unit_municipalities(latest_units, register, districts)
    size_classes = municipalities.size_classes(placed, class_config) if with_size_classes or not groups else {}
    group_of = (
        {u: groups[k] for u, k in placed.select("unit", "kommunkod").iter_rows() if k in groups} if groups else None
    )
    lan_of = dict(placed.select("unit", "lan").iter_rows())
    titles = municipalities.unit_titles(latest_units, placed, districts)
    meta = (
        latest_units.select("unit", "unit_slug")
        .join(placed.select("unit", "lan"), on="unit", how="left")
        .with_columns(pl.col("unit").replace_strict(titles, default=pl.col("unit")).alias("title"))
    )
    areas = areas_of(meta, size_classes, [c["label"] for c in class_config], group_of)
    return areas, size_classes, lan_of


def run_areas(
    units: pl.DataFrame,
    register_path: str | None,
    population_path: str | None,
    cutoff_year: int,
    districts: Mapping[str, str],
    class_config: Sequence[Mapping[str, Any]],
    groups_path: str | None = None,
    with_size_classes: bool = False,
):
    """comparison_areas for the units of a run (units.csv: one row per round and unit,
    each unit taken from its latest round), on the register the size classes rest on;
    ``groups_path``: the grouping file (config comparison_groups.file), if any."""
    latest = units.sort("round").unique("unit", keep="last", maintain_order=True)
    register = comparison_register(register_path, population_path, cutoff_year)
    groups = municipalities.read_groups(groups_path, register) if groups_path else None
    return comparison_areas(latest, register, districts, class_config, groups, with_size_classes)


def shown_tables(diagrams: Sequence[int], measures: Sequence[Mapping[str, Any]]) -> list[int]:
    """The diagrams a comparison needs: the reports' own and those the round trend reads."""
    return sorted(set(diagrams) | set(trend_diagrams(measures)))


def top_group_table(
    derived: pl.DataFrame, registry: Registry | None = None, by: pl.Series | None = None
) -> pl.DataFrame:
    """The top group among closed cases (derive.top_group) as a two-row single table:
    ``Toppgrupp`` and ``Övriga avslutade ärenden``, denominator = closed cases
    (``by``: one per unit, as tables.build_table)."""
    labels = (registry or load_registry()).labels["comparison_groups"]
    closed = derived.filter(pl.col("is_closed"))
    return tables_module.flag_table(closed, pl.col("top_group"), (labels["top_group"], labels["other_closed"]), by)


def table_kind(table_id: str, registry: Registry | None = None) -> str:
    return "single" if table_id == TOP_GROUP else (registry or load_registry())[int(table_id)].table


def table_ids(diagrams: Sequence[int]) -> list[str]:
    return [str(n) for n in diagrams] + [TOP_GROUP]


def _aligned(table: pl.DataFrame, national: pl.DataFrame) -> pl.DataFrame:
    """The area's table on the national table's rows, in its order (the table is built
    with EVERY_OPTION)."""
    keys = national.select("group", "category")
    out = keys.join(table, on=["group", "category"], how="left", nulls_equal=True, maintain_order="left")
    if out["n"].null_count():
        raise ValueError("en jämförelsetabell saknar rader som rikets tabell har")
    return out


def area_tables(
    derived: pl.DataFrame,
    areas: Sequence[Area],
    diagrams: Sequence[int],
    settings: Any = None,
    registry: Registry | None = None,
    national: Mapping[str, pl.DataFrame] | None = None,
) -> dict[str, dict[str, pl.DataFrame]]:
    """table id → area name → unprotected table, for every area and shown table.

    ``national`` (self-service, table id → the country's table from the national
    bundle): the rows every area's table is aligned to, instead of the country's table
    built from ``derived`` (which then holds one unit's cases only).

    Every unit's table of a diagram comes from one pass over all cases (``by`` unit),
    an area of several units is the sum of its units' tables (counts and denominators
    add up over disjoint cases): one query per table instead of one per area and
    table (~6 000 small queries per round at national scale, measured)."""
    reg = registry or load_registry()
    cb = codebook_module.load()
    pooled = [a for a in areas if a.kind != "riket"]
    out: dict[str, dict[str, pl.DataFrame]] = {}
    for table_id in table_ids(diagrams):
        per_area: dict[str, pl.DataFrame] = {} if national is None else {NATIONAL: national[table_id]}
        for area in areas:
            if area.kind == "riket":
                per_area[area.name] = _area_table(table_id, derived, settings, reg, cb)
        if pooled:
            per_area |= _pooled_tables(table_id, derived, pooled, per_area[NATIONAL], reg, cb)
        out[table_id] = {a.name: per_area[a.name] for a in areas if national is None or a.name != NATIONAL}
    return out


# every optional row (honour interventions of diagram 9) in every area's table, so that
# the rows the national table shows are always there (``_aligned``)
EVERY_OPTION = {"honour_interventions_min": 0}


def _area_table(
    table_id: str,
    frame: pl.DataFrame,
    settings: Any,
    reg: Registry,
    cb: codebook_module.Codebook,
    by: pl.Series | None = None,
) -> pl.DataFrame:
    """One table of an area (``by``: of every unit at once, as tables.build_table)."""
    if table_id == TOP_GROUP:
        return top_group_table(frame, reg, by)
    return collapsed_table(int(table_id), frame, settings, reg, cb, by)


def _pooled_tables(
    table_id: str,
    derived: pl.DataFrame,
    areas: Sequence[Area],
    national: pl.DataFrame,
    reg: Registry,
    cb: codebook_module.Codebook,
) -> dict[str, pl.DataFrame]:
    """area name → its table on the national table's rows, for areas below the country."""
    kind = table_kind(table_id, reg)
    if kind not in tables_module.ADDITIVE_KINDS:  # means, phases: from each area's cases
        return {
            a.name: _aligned(
                _area_table(table_id, derived.filter(pl.col("unit").is_in(a.units)), EVERY_OPTION, reg, cb), national
            )
            for a in areas
        }
    units = pl.Series("unit", sorted({u for a in areas for u in a.units}), dtype=derived.schema["unit"])
    per_unit = _aligned_by_unit(_area_table(table_id, derived, EVERY_OPTION, reg, cb, units), national, units.len())
    members = pl.DataFrame(
        {"_area": [i for i, a in enumerate(areas) for _ in a.units], "unit": [u for a in areas for u in a.units]},
        schema={"_area": pl.Int64, "unit": units.dtype},
    )
    summed = (
        members.join(per_unit, on="unit", how="inner")
        .group_by("_area", "_order")
        .agg(pl.col("group", "category").first(), pl.col("n", "denominator").sum())
        .sort("_area", "_order")
    )
    finished = tables_module.finish_table(summed, with_share=kind != "histogram", keep=["_area"])
    parts = finished.partition_by("_area", as_dict=True, include_key=False, maintain_order=True)
    return {a.name: parts[(i,)] for i, a in enumerate(areas)}


def _aligned_by_unit(per_unit: pl.DataFrame, national: pl.DataFrame, units: int) -> pl.DataFrame:
    """A table per unit on the national table's rows (``_order``: the national row)."""
    keys = national.select("group", "category").with_row_index("_order")
    out = keys.join(per_unit, on=["group", "category"], how="left", nulls_equal=True)
    if out["n"].null_count() or out.height != keys.height * units:
        raise ValueError("en jämförelsetabell saknar rader som rikets tabell har")
    return out.with_columns(pl.col("_order").cast(pl.Int64))


# ---------------------------------------------------------------- pooling rare categories


def collapse_rows(
    table: pl.DataFrame, pools: Sequence[tuple[str, Sequence[str]]], with_share: bool = True, keep: Sequence[str] = ()
) -> pl.DataFrame:
    """A single-choice (or histogram) table with the categories of each pool
    (label, member categories) summed into one row ``label``, per group, at the place
    of the pool's last member; shares and intervals recomputed from the sums
    (``with_share`` False: counts only, as the histogram). ``keep``: the key of a
    table per unit (tables.build_table's ``by``), pooled within each unit."""
    relabel = {m: label for label, members in pools for m in members}
    rows = (
        table.with_row_index("_pos")
        .with_columns(pl.col("category").replace(relabel).alias("_pooled"))
        .group_by(*keep, "group", "_pooled", maintain_order=True)
        .agg(pl.col("n").sum(), pl.col("denominator").first(), pl.col("_pos").max())
        .sort("_pos")
        .select(*keep, "group", pl.col("_pooled").alias("category"), "n", "denominator")
    )
    return tables_module.finish_table(rows, with_share, keep=keep)


def _representative(d: Diagram, pool: Pool, reg: Registry, cb: codebook_module.Codebook) -> Any:
    """The fixed member of ``pool`` that stands for all of it in a multi-choice list
    (the last in the diagram's order): an option code, or a label of a label list."""
    fixed = category_labels(d, reg, cb)
    last = max((m for m in pooled_labels(d, pool, cb) if m in fixed), key=fixed.index)
    if pool.codes:
        var = cb[d.category["variable"]]
        return next(c for c in var.codes if var.label_of(c) == last), last
    return last, last


def _recoded_choices(frame: pl.DataFrame, d: Diagram, reg: Registry, cb: codebook_module.Codebook) -> pl.DataFrame:
    """The cases with every pooled choice of a multi-choice diagram replaced by its
    pool's representative: a case then counts once in the pool however many of its
    options it chose (a multi-choice count is cases, not choices)."""
    column = d.category.get("column", d.category.get("variable"))
    mapping: dict[Any, Any] = {}
    for pool in d.collapse:
        rep, _ = _representative(d, pool, reg, cb)
        members = pool.codes or pool.labels
        mapping.update(dict.fromkeys(members, rep))
    old, new = list(mapping), list(mapping.values())
    return frame.with_columns(pl.col(column).list.eval(pl.element().replace(old, new)))


def collapsed_table(
    number: int,
    frame: pl.DataFrame,
    settings: Any,
    reg: Registry,
    cb: codebook_module.Codebook,
    by: pl.Series | None = None,
) -> pl.DataFrame:
    """Diagram ``number``'s table of an area with the registry's pools (``collapse``)
    as one row each; the plain table for diagrams without pools (``by``: one per
    unit, as tables.build_table)."""
    d = reg[number]
    if not d.collapse:
        return tables_module.build_table(number, frame, settings=settings, registry=reg, codebook=cb, by=by)
    if d.table == "multi":
        table = tables_module.build_table(
            number, _recoded_choices(frame, d, reg, cb), settings=settings, registry=reg, codebook=cb, by=by
        )
        reps = {_representative(d, p, reg, cb)[1]: p.label for p in d.collapse}
        others = {m for p in d.collapse for m in pooled_labels(d, p, cb)} - set(reps)
        return table.filter(~pl.col("category").is_in(list(others))).with_columns(pl.col("category").replace(reps))
    pools = [(p.label, pooled_labels(d, p, cb)) for p in d.collapse]
    table = tables_module.build_table(number, frame, settings=settings, registry=reg, codebook=cb, by=by)
    keep = [] if by is None else [by.name]
    return collapse_rows(table, pools, with_share=d.table != "histogram", keep=keep)


def protect(
    tables_by_round: Mapping[Any, Mapping[str, Mapping[str, pl.DataFrame]]],
    areas: Sequence[Area],
    threshold: int,
    unchanged: Mapping[Any, Collection[str]] | None = None,
    registry: Registry | None = None,
    sizes: Mapping[str, Sequence[int]] | None = None,
    workers: int = 1,
) -> dict[Any, pl.DataFrame]:
    """Every round's tables of every area, suppressed together per table, as one long
    frame per round (``LONG_SCHEMA``): the country as it is, every other area
    protected. ``tables_by_round``: round → table id → area → unprotected table, the
    final (published) round last. ``unchanged``: earlier round → the units whose data
    then were the same as in the final round (no newer export): their cells are one
    and the same in both rounds, so a count hidden in one is hidden in the other.
    ``sizes``: area → (cases, closed) as the reports' text gives them; a table whose
    base is that number keeps it shown (``_public_bases``). ``workers``: processes
    protecting tables at once (the rule's threads).

    The attacker the suppression stands against knows one unit's own numbers (an
    outsider, none) and sees every area's tables of every round at once."""
    reg = registry or load_registry()
    rounds = list(tables_by_round)
    final = rounds[-1]
    kind_of = {a.name: a.kind for a in areas}
    out: dict[Any, dict[str, dict[str, pl.DataFrame]]] = {r: {} for r in rounds}
    jobs, present_of = {}, {}
    for table_id in tables_by_round[final]:
        present = [r for r in rounds if table_id in tables_by_round[r]]
        joint, totals, owners, exempt = {}, {}, {}, set()
        for r in present:
            for a in areas:
                name = _round_name(a.name, r, final)
                joint[name] = tables_by_round[r][table_id][a.name]
                owners[name] = a.name if a.kind == "enhet" else None
                if a.kind == "riket":
                    exempt.add(name)
                else:
                    totals_of = [_round_name(u, r, final) for u in a.units] if a.kind != "enhet" else None
                    if totals_of:
                        totals[name] = totals_of
            totals[_round_name(NATIONAL, r, final)] = [
                _round_name(a.name, r, final) for a in areas if a.kind == "enhet"
            ]
        for r in present[:-1]:
            for unit in sorted((unchanged or {}).get(r, ())):
                now, then = joint.get(unit), joint.get(_round_name(unit, r, final))
                if now is not None and then is not None and _key(now) == _key(then):
                    totals[_round_name(unit, r, final)] = [unit]  # the same cells: equal
        jobs[table_id] = (joint, threshold, totals, exempt, table_kind(table_id, reg), owners)
        jobs[table_id] += (_public_bases(joint, sizes or {}, final),)
        present_of[table_id] = present
    for table_id, protected in _run_jobs(jobs, workers):
        for r in present_of[table_id]:
            out[r][table_id] = {a.name: protected[_round_name(a.name, r, final)] for a in areas}
    return {r: long_frame(out[r], kind_of) for r in rounds}


def _protect_table(job: tuple) -> dict[str, pl.DataFrame]:
    joint, threshold, totals, exempt, kinds, owners, public_bases = job
    return suppression.suppress_complements(
        joint,
        threshold,
        totals=totals,
        exempt=exempt,
        kinds=kinds,
        owners=owners,
        reasons=True,
        public_bases=public_bases,
    )


# A worker process costs about 1.8 CPU-s before it protects anything (spawned, it imports
# polars, scipy and the package again). The demo's 3 956 rows (18 tables, every area and
# round) take 9 CPU-s in one process; a second worker saved 1.9 s of their wall time for
# 3.6 s more CPU, and kept a core from the jobs beside it. 290 municipalities' 10 000
# rows of six tables took 42 s with two.
ROWS_PER_WORKER = 2_500


def processes(rows: Mapping[str, int], workers: int) -> int:
    """How many processes protect tables of ``rows`` rows each (table id → rows of all
    its areas and rounds): at most ``workers`` (the rule's threads), one per table, and
    one per ``ROWS_PER_WORKER`` rows."""
    return max(1, min(workers, len(rows), sum(rows.values()) // ROWS_PER_WORKER))


def _run_jobs(jobs: Mapping[str, tuple], workers: int) -> list[tuple[str, dict[str, pl.DataFrame]]]:
    """Every table's protection (independent of the others: a table's cells are linked
    only to the same table's), in ``processes`` processes, the largest tables first so
    that no long one starts last; results in the tables' order (the same with any
    number of processes)."""
    rows = {t: sum(frame.height for frame in jobs[t][0].values()) for t in jobs}
    count = processes(rows, workers)
    if count == 1:
        return [(t, _protect_table(job)) for t, job in jobs.items()]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    by_size = sorted(jobs, key=lambda t: -rows[t])
    # spawn, not fork: polars' thread pool does not survive a fork
    with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = dict(zip(by_size, pool.map(_protect_table, [jobs[t] for t in by_size]), strict=True))
    return [(t, done[t]) for t in jobs]


def unchanged_units(units: pl.DataFrame, rounds: Sequence[Any]) -> dict[Any, set[str]]:
    """Earlier round → the units whose data then were the final round's: no export of
    theirs came in after that round (units.csv: one row per file and round). A reader
    sees this in the reports (the export each unit's numbers rest on)."""
    order = [str(r) for r in rounds]
    latest: dict[str, dict[str, str]] = {}
    for unit, round_ in units.select("unit", pl.col("round").cast(pl.String)).unique().iter_rows():
        latest.setdefault(unit, {})
        for r in order:
            if round_ <= r and round_ > latest[unit].get(r, ""):
                latest[unit][r] = round_
    final = order[-1]
    return {r: {u for u, by in latest.items() if r in by and by.get(r) == by.get(final)} for r in rounds[:-1]}


def _public_bases(joint: Mapping[str, pl.DataFrame], sizes: Mapping[str, Sequence[int]], final: Any) -> list[str]:
    """The areas of the final round whose base N a reader knows from the report's text
    (``sizes``: area → its cases and closed cases, as area_info): a table whose N is,
    for every area, the area's number of cases (or of closed cases). The text gives it
    away, so hiding it would protect nothing."""
    named = {name: t for name, t in joint.items() if name in sizes}
    for k in range(2):
        if named and all(set(t["denominator"].to_list()) == {sizes[name][k]} for name, t in named.items()):
            return list(named)
    return []


def _round_name(area: str, round_: Any, final: Any) -> str:
    """The name of an area's table of an earlier round in the joint problem."""
    return area if round_ == final else f"{area}\x00{round_}"


def _key(table: pl.DataFrame) -> list[tuple[Any, Any]]:
    return list(zip(table["group"].to_list(), table["category"].to_list()))


def long_frame(
    tables_by_id: Mapping[str, Mapping[str, pl.DataFrame]], kind_of: Mapping[str, str], kinds: Sequence[str] = KINDS
) -> pl.DataFrame:
    """The tables of the areas of ``kinds`` as one long frame (``LONG_SCHEMA``);
    ``kind_of``: area name → kind. A table without reasons (unprotected) gets empty ones.

    One concatenation of all the tables, their keys repeated beside them: at national
    scale there are thousands of small tables, and a query per table cost seconds."""
    picked = [
        (table_id, name, table)
        for table_id, per_area in tables_by_id.items()
        for name, table in per_area.items()
        if kind_of[name] in kinds
    ]
    if not picked:
        return pl.DataFrame(schema=LONG_SCHEMA)
    heights = [table.height for _, _, table in picked]
    keys = pl.DataFrame(
        {
            "table": np.repeat([t for t, _, _ in picked], heights),
            "area_kind": np.repeat([kind_of[name] for _, name, _ in picked], heights),
            "area": np.repeat([name for _, name, _ in picked], heights),
        },
        schema={"table": pl.String, "area_kind": pl.String, "area": pl.String},
    )
    body = pl.concat([table for _, _, table in picked], how="diagonal_relaxed")
    body = body.select(
        *tables_module.TABLE_SCHEMA.names(),
        *[pl.col(c) if c in body.columns else pl.lit(None, pl.String).alias(c) for c in REASONS],
    )
    return pl.concat([keys, body], how="horizontal").cast(dict(LONG_SCHEMA))


GROUP_KINDS = ("riket", "storleksklass", "grupp")


def group_tables(published: pl.DataFrame, kinds: Sequence[str] = GROUP_KINDS) -> pl.DataFrame:
    """The country's and the comparison groups' tables as the reports publish them
    (``published``: the frame of ``protect``, rule unit_tables' tables.parquet): for the
    national bundle and the national report's results by municipality size, so that
    every place shows a group's numbers with the same cells hidden."""
    return published.filter(pl.col("area_kind").is_in(list(kinds)))


def internal_tables(
    tables_by_id: Mapping[str, Mapping[str, pl.DataFrame]], protected: pl.DataFrame, areas: Sequence[Area]
) -> pl.DataFrame:
    """The tables of the units' internal editions (``LONG_SCHEMA``): every unit's own
    table *unprotected*, beside the country and the size classes exactly as published
    (``protected``: the frame of ``protect``). No län: their reports are published only."""
    kind_of = {a.name: a.kind for a in areas}
    published = protected.filter(pl.col("area_kind").is_in(["riket", "storleksklass"]))
    return pl.concat([published, long_frame(tables_by_id, kind_of, kinds=("enhet",))])


def comparison_table(long: pl.DataFrame, table_id: str, areas: Sequence[Area]) -> pl.DataFrame:
    """One table's rows for the given areas, in that order, with ``group`` = the area
    name (the layout of the grouped-bar figure). Histogram counts (diagram 16) get
    their share of the denominator, so that areas of different size compare."""
    parts = []
    for area in areas:
        rows = long.filter((pl.col("table") == table_id) & (pl.col("area") == area.name))
        if rows.is_empty():
            raise ValueError(f"tabell {table_id} saknas för {area.name}")
        parts.append(rows.drop("table", "area_kind", "area").with_columns(pl.lit(area.name).alias("group")))
    frame = pl.concat(parts)
    if frame["share"].null_count() == frame.height and frame["mean"].null_count() == frame.height:
        frame = frame.with_columns(
            pl.when(pl.col("denominator") > 0).then(pl.col("n") / pl.col("denominator")).alias("share")
        )
    return frame


# ---------------------------------------------------------------- rounds per area


def trend_diagrams(measures: Sequence[Mapping[str, Any]]) -> list[int]:
    """The diagrams the round comparison reads (trend.DEFAULT_MEASURES or config)."""
    return sorted({int(m["diagram"]) for m in measures})


def area_trend(
    long_by_round: Mapping[Any, pl.DataFrame],
    area: str,
    measures: Sequence[Mapping[str, Any]],
    sources: Mapping[str, str],
) -> pl.DataFrame:
    """The round comparison of one area from its *protected* tables per round
    (round date → long frame of ``protect``): a measure is hidden in a round when any
    of its categories is hidden there (trend.TREND_SCHEMA, no previous-report rows:
    those are national values)."""
    return areas_trend(long_by_round, [area], measures, sources).drop("area")


def areas_trend(
    long_by_round: Mapping[Any, pl.DataFrame],
    areas: Sequence[str],
    measures: Sequence[Mapping[str, Any]],
    sources: Mapping[str, str],
) -> pl.DataFrame:
    """``area_trend`` of every area of ``areas`` (in that order, then measure, then
    round), with an ``area`` column: one query per measure and round for all areas
    (at national scale a query per area cost most of rule unit_tables' time outside
    the suppression)."""
    rounds = sorted(long_by_round)
    parts = [
        _measure_round(long_by_round[r], m, areas).with_columns(
            measure=pl.lit(m["id"]),
            label=pl.lit(m["label"]),
            source=pl.lit(sources["final" if r == rounds[-1] else "interim"]),
            round=pl.lit(r, pl.Date),
            _order=pl.lit(i * len(rounds) + k),
        )
        for i, m in enumerate(trend.resolved_measures(measures))
        for k, r in enumerate(rounds)
    ]
    schema = {**trend.TREND_SCHEMA, "hidden_reason": pl.String, "area": pl.String}
    if not parts:
        return pl.DataFrame(schema=schema)
    position = pl.col("area").replace_strict(list(areas), range(len(areas)), return_dtype=pl.Int64)
    return pl.concat(parts).sort(position, "_order").select(list(schema)).cast(schema)


def _measure_round(long: pl.DataFrame, measure: Mapping[str, Any], areas: Sequence[str]) -> pl.DataFrame:
    """One measure in one round for every area of ``areas`` that has its table: hidden
    when one of its categories is, else as ``trend.measure_from_table`` gives it. Why
    hidden: below the threshold only when that is certain (its base, or its one
    category, is below it), else hidden to protect another count. The values are
    ``trend.measure_values``, as for the country."""
    categories = list(measure["categories"])
    table = long.filter((pl.col("table") == str(measure["diagram"])) & pl.col("area").is_in(list(areas)))
    small = suppression.REASON_SMALL
    picked = (
        table.filter(pl.col("category").is_in(categories))
        .group_by("area", maintain_order=True)
        .agg(
            hidden=pl.col("suppressed").any() | (pl.col("denominator").null_count() > 0),
            small=pl.col("denominator_reason").eq(small).any()
            | ((pl.len() == 1) & pl.col("hidden_reason").first().eq(small)).fill_null(False),
            n=pl.col("n").sum(),
            denominator=pl.col("denominator").first(),
            denominators=pl.col("denominator").n_unique(),
            found=pl.col("category").n_unique(),
            share=pl.col("share").first(),
            ci_low=pl.col("ci_low").first(),
            ci_high=pl.col("ci_high").first(),
        )
    )
    rows = table.select("area").unique(maintain_order=True).join(picked, on="area", how="left")
    rows = rows.with_columns(pl.col("hidden").fill_null(False))
    shown = ~pl.col("hidden")
    broken = rows.filter(
        shown & ((pl.col("found") != len(set(categories))).fill_null(True) | (pl.col("denominators") != 1))
    )
    for area in broken["area"]:  # raises the message of measure_from_table
        trend.measure_from_table(table.filter(pl.col("area") == area), categories, f"{area}, {measure['id']}")
    values = trend.measure_values(rows, single=len(categories) == 1)
    rows = pl.concat([rows.select("area", "hidden", "small"), values], how="horizontal")
    reason = pl.when(pl.col("small")).then(pl.lit(small)).otherwise(pl.lit(suppression.REASON_PROTECT))
    return rows.select(
        "area",
        *[pl.when(shown).then(pl.col(c)).alias(c) for c in ("n", "denominator", "share", "ci_low", "ci_high")],
        hidden_reason=pl.when(pl.col("hidden")).then(reason),
    )


def area_info(
    areas: Sequence[Area], derived: pl.DataFrame, size_classes: Mapping[str, str], lan_of: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """What the report jobs need to know of every area (written as areas.json): its
    kind, name, slug, units, size class and län (units), cases and closed cases."""
    counts = derived.group_by("unit").agg(pl.len().alias("cases"), pl.col("is_closed").sum().alias("closed"))
    group_of = {u: a.name for a in areas if a.kind == "grupp" for u in a.units}
    by_unit = {u: (c, k) for u, c, k in counts.iter_rows()}
    out = []
    for a in areas:
        cases = sum(by_unit.get(u, (0, 0))[0] for u in a.units)
        closed = sum(by_unit.get(u, (0, 0))[1] for u in a.units)
        unit = a.units[0] if a.kind == "enhet" else None
        out.append(
            {
                "kind": a.kind,
                "name": a.name,
                "title": a.title or a.name,
                "slug": a.slug,
                "units": list(a.units),
                "size_class": size_classes.get(unit) if unit else None,
                "lan": lan_of.get(unit) if unit else None,
                "group": group_of.get(unit) if unit else None,
                "cases": int(cases),
                "closed": int(closed),
            }
        )
    return out
