"""Snakemake script of rule `tables`: the 27 national tables (csv + parquet)."""

from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.statistics import tables

    derived = pl.read_parquet(smk.input.derived)
    change = pl.read_parquet(smk.input.risk_change)
    built = tables.build_all_tables(
        derived, change, settings={"honour_interventions_min": smk.params.honour_interventions_min}
    )
    tables.write_tables(built, Path(smk.output.csv[0]).parent)


run(main, snakemake)
