"""Snakemake script of rule `unit_tables`: the comparison tables of every unit, size
class and län, protected together (small-number suppression), for every round."""

import datetime as dt
import json
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.disclosure import kolada
    from kvinnofrid.spec import municipalities
    from kvinnofrid.statistics import trend
    from kvinnofrid.disclosure import area_tables

    p = smk.params
    derived = pl.read_parquet(smk.input.final)
    units = pl.read_csv(smk.input.units)
    latest = units.sort("round").unique("unit", keep="last", maintain_order=True)
    register = municipalities.load_register(smk.input.register[0] if smk.input.register else None)
    # SCB's population when given (config kolada.population), never the demo one
    scb = (municipalities.latest_population(kolada.total_population(smk.input.population[0]),
                                            smk.params.cutoff_year) if smk.input.population else None)
    register = municipalities.with_population(register, scb)
    placed = municipalities.unit_municipalities(latest, register, p.districts)
    size_classes = municipalities.size_classes(placed, p.size_classes)
    lan_of = dict(placed.select("unit", "lan").iter_rows())
    meta = latest.select("unit", "unit_slug").join(placed.select("unit", "lan"), on="unit", how="left")
    class_order = [c["label"] for c in p.size_classes]
    areas = area_tables.areas_of(meta, size_classes, class_order)
    measures = p.trend["measures"]
    diagrams = sorted(set(p.diagrams) | set(area_tables.trend_diagrams(measures)))
    settings = {"honour_interventions_min": p.honour_interventions_min}

    # published: protected together; internal (units only): each unit's own numbers unprotected
    published, internal = {}, {}
    for r, path in zip(p.rounds, [*smk.input.earlier, smk.input.final], strict=True):
        latest_round = r == p.rounds[-1]
        cases = derived if latest_round else pl.read_parquet(path)
        shown = diagrams if latest_round else area_tables.trend_diagrams(measures)
        tables = area_tables.area_tables(cases, areas, shown, settings)
        published[r] = _protected(tables, areas, p.threshold, r)
        internal[r] = area_tables.internal_tables(tables, published[r], areas)

    def trend_of(by_round, kinds):
        rounds = {dt.date.fromisoformat(r): long for r, long in by_round.items()}
        return pl.concat([
            area_tables.area_trend(rounds, a.name, measures, trend.DEFAULT_SOURCES).with_columns(
                pl.lit(a.name).alias("area"))
            for a in areas if a.kind in kinds])

    Path(smk.output.tables).parent.mkdir(parents=True, exist_ok=True)
    published[p.rounds[-1]].write_parquet(smk.output.tables, statistics=False)
    trend_of(published, area_tables.KINDS).write_parquet(smk.output.trend, statistics=False)
    internal[p.rounds[-1]].write_parquet(smk.output.tables_intern, statistics=False)
    trend_of(internal, ("enhet",)).write_parquet(smk.output.trend_intern, statistics=False)
    info = area_tables.area_info(areas, derived, size_classes, lan_of)
    Path(smk.output.areas).write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")


def _protected(tables, areas, threshold, round_date):
    """area_tables.protect, or a message a user can act on when the areas are too few
    (a size class or a country of one or two units publishes their numbers as they are)."""
    from kvinnofrid.disclosure import area_tables
    from kvinnofrid.disclosure.suppression import SuppressionError
    from kvinnofrid.errors import UserFacingError

    try:
        return area_tables.protect(tables, areas, threshold)
    except SuppressionError as failed:
        units = sum(a.kind == "enhet" for a in areas)
        classes = ", ".join(f"{a.name}: {len(a.units)}" for a in areas if a.kind == "storleksklass")
        raise UserFacingError(
            f"Jämförelserapporterna (målet kommuner) kan inte skyddas för omgången {round_date}: "
            f"med {units} verksamheter (verksamheter per storleksklass: {classes}) går dolda små tal "
            "att räkna fram ur rikets eller storleksklassernas tal, som visas utan skydd. "
            "Jämförelserapporter kräver fler verksamheter i varje storleksklass; den nationella "
            "rapporten (målet all) påverkas inte.") from failed


run(main, snakemake)  # noqa: F821
