"""Snakemake script of rule `statistics`: the comparison tests behind the text's claims."""

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.statistics import stats

    comparisons = stats.build_stats(pl.read_parquet(smk.input.derived), pl.read_parquet(smk.input.risk_change))
    stats.write_stats(comparisons, smk.output.csv, smk.output.parquet)


run(main, snakemake)
