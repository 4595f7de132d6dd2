"""Snakemake script of rule `facts`: every number the text quotes, from the tables, the
comparisons, the cases and the participants list (marked list written beside it)."""

import re
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.statistics import facts, participants

    tables = {int(re.search(r"(\d+)", Path(p).stem).group(1)): pl.read_parquet(p) for p in smk.input.tables}
    stats = pl.read_parquet(smk.input.stats)
    derived = pl.read_parquet(smk.input.derived)
    matched = participants.match_participants(pl.read_csv(smk.input.participants), pl.read_csv(smk.input.units))
    participants.write_participants(matched, smk.output.participants)
    facts.write_facts(facts.build_facts(tables, stats, derived, participants=matched), smk.output.facts)


run(main, snakemake)  # noqa: F821
