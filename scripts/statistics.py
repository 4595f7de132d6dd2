"""Snakemake script of rule `statistics`: the comparison tests behind the text's claims."""

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.spec import municipalities
    from kvinnofrid.statistics import stats

    derived = pl.read_parquet(smk.input.derived)
    change = pl.read_parquet(smk.input.risk_change)
    units = pl.read_csv(smk.input.units).select("unit", "municipality").unique()
    register = municipalities.load_register(smk.input.register[0] if smk.input.register else None)
    per_unit = municipalities.unit_municipalities(units, register, smk.params.districts)
    classes = list(smk.params.size_classes)
    comparisons = stats.build_stats(
        derived, change,
        size_classes=municipalities.size_classes(per_unit, classes),
        size_class_order=[c["label"] for c in classes],
    )
    stats.write_stats(comparisons, smk.output.csv, smk.output.parquet)


run(main, snakemake)  # noqa: F821
