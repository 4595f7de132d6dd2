"""Snakemake script of rule `clean`: parse values, apply the row rules, account for rows."""

import datetime as dt
import json

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.stages import clean

    meta = json.loads(open(smk.input.meta, encoding="utf-8").read())
    raw = pl.read_parquet(smk.input.parquet)
    result = clean.clean_file(
        raw, meta, (smk.params.period_start, smk.params.period_end), dt.date.fromisoformat(smk.wildcards.round)
    )
    result.write(
        cases=smk.output.cases, risk=smk.output.risk, rejected=smk.output.rejected,
        issues=smk.output.issues, report=smk.output.report, meta=meta,
    )


run(main, snakemake)  # noqa: F821
