"""Snakemake script of rule `derive`: compiled cases -> cases with derived variables."""

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.stages import derive

    cases = pl.read_parquet(smk.input.cases)
    risk = pl.read_parquet(smk.input.risk)
    derive.derive_cases(cases, risk).write_parquet(smk.output.derived)
    derive.risk_change(risk).write_parquet(smk.output.risk_change)


run(main, snakemake)
