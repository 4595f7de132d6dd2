"""Snakemake script of rule `national_bundle`: results/nationellt/, what a municipality
needs to compare its own exports with the country and its size class (no unit data)."""

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
    )
    published = [a for a in areas if a.kind in bundle.PUBLISHED_KINDS]
    diagrams = area_tables.shown_tables(p.diagrams, p.trend["measures"])
    derived = pl.read_parquet(smk.input.final)
    tables = area_tables.area_tables(
        derived, published, diagrams, {"honour_interventions_min": p.honour_interventions_min}
    )
    bundle.write_bundle(
        Path(smk.output[0]),
        national_tables=[Path(t) for t in [*smk.input.tables, *smk.input.tables_parquet]],
        facts=Path(smk.input.facts),
        comparison=area_tables.long_frame(tables, {a.name: a.kind for a in published}),
        areas=area_tables.area_info(published, derived, size_classes, lan_of),
        about=p.about,
    )


run(main, snakemake)
