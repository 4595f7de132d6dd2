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
        smk.input.groups[0] if smk.input.groups else None,
        p.groups_with_size_classes,
    )
    published = [a for a in areas if a.kind in bundle.PUBLISHED_KINDS]
    derived = pl.read_parquet(smk.input.final)
    # the country and the comparison groups exactly as the reports publish them (protected
    # together with every unit and län by rule unit_tables), never recomputed unprotected
    comparison = area_tables.group_tables(pl.read_parquet(smk.input.comparison))
    bundle.write_bundle(
        Path(smk.output[0]),
        national_tables=[Path(t) for t in [*smk.input.tables, *smk.input.tables_parquet]],
        facts=Path(smk.input.facts),
        comparison=comparison,
        areas=area_tables.area_info(published, derived, size_classes, lan_of),
        about=p.about,
    )


run(main, snakemake)
