"""Snakemake script of rule `statistics`: the comparison tests behind the text's claims."""

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.disclosure import kolada
    from kvinnofrid.spec import municipalities
    from kvinnofrid.statistics import stats

    derived = pl.read_parquet(smk.input.derived)
    change = pl.read_parquet(smk.input.risk_change)
    units = pl.read_csv(smk.input.units).select("unit", "municipality").unique()
    register = municipalities.load_register(smk.input.register[0] if smk.input.register else None)
    # SCB's population when given (config kolada.population), never the demo one
    scb = (
        municipalities.latest_population(kolada.total_population(smk.input.population[0]), smk.params.cutoff_year)
        if smk.input.population
        else None
    )
    register = municipalities.with_population(register, scb)
    per_unit = municipalities.unit_municipalities(units, register, smk.params.districts)
    classes = list(smk.params.size_classes)
    comparisons = stats.build_stats(
        derived,
        change,
        size_classes=municipalities.size_classes(per_unit, classes),
        size_class_order=[c["label"] for c in classes],
    )
    stats.write_stats(comparisons, smk.output.csv, smk.output.parquet)


run(main, snakemake)
