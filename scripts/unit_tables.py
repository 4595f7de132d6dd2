"""Snakemake script of rule `unit_tables`: the comparison tables of every unit, size
class and län, protected together (small-number suppression), for every round; and
each unit's own tables unprotected, for its internal edition.

In a self-service run (config national_bundle, `kvinnofrid egen-rapport`) only the
units of data_raw are computed, unprotected, beside the bundle's country and size
classes: the internal edition is the only one built."""

import datetime as dt
import json
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.disclosure import area_tables, bundle

    p = smk.params
    areas, size_classes, lan_of = area_tables.run_areas(
        pl.read_csv(smk.input.units),
        smk.input.register[0] if smk.input.register else None,
        smk.input.population[0] if smk.input.population else None,
        p.cutoff_year,
        p.districts,
        p.size_classes,
        smk.input.groups[0] if smk.input.groups else None,
        p.groups_with_size_classes,
    )
    diagrams = area_tables.shown_tables(p.diagrams, p.trend["measures"])
    # every round's cases, the final round last
    rounds = dict(zip(p.rounds, [*smk.input.earlier, smk.input.final], strict=True))
    if p.bundle:  # self-service: own units unprotected beside the national bundle
        national = bundle.read_bundle(Path(p.bundle))
        _write_self_service(smk, rounds, areas, size_classes, lan_of, national, diagrams)
    else:
        _write_national(smk, rounds, areas, size_classes, lan_of, diagrams)


def _tables_by_round(smk, rounds, areas, diagrams, national=None):
    """round → table id → area → unprotected table (the trend's tables only in earlier rounds)."""
    from kvinnofrid.disclosure import area_tables

    settings = {"honour_interventions_min": smk.params.honour_interventions_min}
    final = list(rounds)[-1]
    return {
        r: area_tables.area_tables(
            pl.read_parquet(path),
            areas,
            diagrams if r == final else area_tables.trend_diagrams(smk.params.trend["measures"]),
            settings,
            national=national,
        )
        for r, path in rounds.items()
    }


def _trend(by_round, areas, measures):
    from kvinnofrid.disclosure import area_tables
    from kvinnofrid.statistics import trend

    rounds = {dt.date.fromisoformat(r): long for r, long in by_round.items()}
    return area_tables.areas_trend(rounds, [a.name for a in areas], measures, trend.DEFAULT_SOURCES)


def _write(smk, published, trend_published, internal, trend_internal, info) -> None:
    Path(smk.output.tables).parent.mkdir(parents=True, exist_ok=True)
    published.write_parquet(smk.output.tables, statistics=False)
    trend_published.write_parquet(smk.output.trend, statistics=False)
    internal.write_parquet(smk.output.tables_intern, statistics=False)
    trend_internal.write_parquet(smk.output.trend_intern, statistics=False)
    Path(smk.output.areas).write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_national(smk, rounds, areas, size_classes, lan_of, diagrams) -> None:
    """Published: every area of every round protected together; internal: each unit's
    own numbers unprotected beside the country and the comparison groups as published."""
    from kvinnofrid.disclosure import area_tables

    p = smk.params
    areas = _publishable(areas)
    tables = _tables_by_round(smk, rounds, areas, diagrams)
    unchanged = area_tables.unchanged_units(pl.read_csv(smk.input.units), list(rounds))
    published = _protected(tables, areas, p.threshold, unchanged, smk.threads)
    internal = {r: area_tables.internal_tables(tables[r], published[r], areas) for r in tables}
    units = [a for a in areas if a.kind == "enhet"]
    final = p.rounds[-1]
    info = area_tables.area_info(areas, pl.read_parquet(smk.input.final), size_classes, lan_of)
    published_trend = _trend(published, areas, p.trend["measures"])
    _write(
        smk,
        published[final],
        published_trend,
        internal[final],
        _trend(internal, units, p.trend["measures"]) if units else published_trend.clear(),
        info,
    )


def _publishable(areas):
    """The areas that can be published. With fewer than MIN_UNITS units in all, each
    unit would read the others' numbers off the country's (published as they are), so
    nothing below the country is published: no comparison report, and the national
    bundle holds the country alone. The national report is not affected."""
    from kvinnofrid.disclosure import area_tables
    from kvinnofrid.scriptrunner import log

    units = sum(a.kind == "enhet" for a in areas)
    if units >= area_tables.MIN_UNITS:
        return areas
    log.warning(
        "Inga jämförelserapporter görs: med %d verksamheter skulle varje verksamhet kunna räkna fram "
        "de andras tal ur rikets, som visas utan skydd. Det krävs minst %d verksamheter. Den nationella "
        "rapporten påverkas inte.",
        units,
        area_tables.MIN_UNITS,
    )
    return [a for a in areas if a.kind == "riket"]


def _write_self_service(smk, rounds, areas, size_classes, lan_of, national, diagrams) -> None:
    """The own units' tables unprotected (internal edition only), aligned to and beside
    the bundle's country and size classes; no published edition is built."""
    from kvinnofrid.disclosure import area_tables, bundle

    p = smk.params
    units = [a for a in areas if a.kind == "enhet"]
    missing = {size_classes.get(a.units[0]) for a in units} - set(national.size_classes) - {None}
    if missing:
        raise bundle.BundleError(
            f"Det nationella paketet saknar storleksklassen {sorted(missing)[0]}; använd samma "
            "storleksklasser som den nationella körningen."
        )
    riket = {
        t: rows.drop("table", "area_kind", "area")
        for (t,), rows in national.comparison.filter(pl.col("area_kind") == "riket")
        .partition_by("table", as_dict=True)
        .items()
    }
    internal = {
        r: area_tables.long_frame(tables, {a.name: a.kind for a in units})
        for r, tables in _tables_by_round(smk, rounds, units, diagrams, national=riket).items()
    }
    final = p.rounds[-1]
    internal[final] = pl.concat([national.comparison, internal[final]])
    info = area_tables.area_info(units, pl.read_parquet(smk.input.final), size_classes, lan_of)
    info += [{**a, "units": [], "size_class": None, "lan": None} for a in national.areas]
    own_trend = _trend(internal, units, p.trend["measures"])
    _write(smk, national.comparison, own_trend.clear(), internal[final], own_trend, info)


def _protected(tables, areas, threshold, unchanged, workers=1):
    """area_tables.protect, or a message instead of a traceback when it finds no
    protection (too few units never get here: _publishable)."""
    from kvinnofrid.disclosure import area_tables
    from kvinnofrid.disclosure.suppression import SuppressionError
    from kvinnofrid.errors import UserFacingError

    try:
        return area_tables.protect(tables, areas, threshold, unchanged, workers=workers)
    except SuppressionError as failed:
        raise UserFacingError(
            "Jämförelsetabellerna (målet kommuner och det nationella paketet) kunde inte skyddas: "
            f"{failed}. Rapportera felet till verktygets utvecklare; tabellerna för riket påverkas inte."
        ) from failed


# guarded: rule unit_tables protects tables in worker processes (spawn), which import
# this script again as their main module
if __name__ == "__main__":
    run(main, snakemake)
