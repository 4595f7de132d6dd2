"""Snakemake script of rule `facts`: every number the text quotes, from the tables."""

import re
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.statistics import facts

    tables = {int(re.search(r"(\d+)", Path(p).stem).group(1)): pl.read_parquet(p) for p in smk.input.tables}
    stats = pl.read_parquet(smk.input.stats)
    derived = pl.read_parquet(smk.input.derived)
    facts.write_facts(facts.build_facts(tables, stats, derived), smk.output[0])


run(main, snakemake)  # noqa: F821
