"""Snakemake script of rule `facts`: every number the text quotes, from the tables, the
comparisons, the cases and the participants list (marked list written beside it)."""

import re
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.disclosure import kolada
    from kvinnofrid.spec import municipalities
    from kvinnofrid.statistics import facts, participants

    tables = {int(re.search(r"(\d+)", Path(p).stem).group(1)): pl.read_parquet(p) for p in smk.input.tables}
    stats = pl.read_parquet(smk.input.stats)
    derived = pl.read_parquet(smk.input.derived)
    units = pl.read_csv(smk.input.units)
    matched = participants.match_participants(pl.read_csv(smk.input.participants), units)
    participants.write_participants(matched, smk.output.participants)
    # what the size classes rest on, found as rule statistics finds it (the report says it)
    register = municipalities.load_register(smk.input.register[0] if smk.input.register else None)
    scb = (
        municipalities.latest_population(kolada.total_population(smk.input.population[0]), smk.params.cutoff_year)
        if smk.input.population
        else None
    )
    per_unit = municipalities.unit_municipalities(
        units.select("unit", "municipality").unique(), register, smk.params.districts
    )
    sizes = municipalities.population_source(per_unit, scb)
    participants.warn_unlisted(matched, per_unit)
    built = facts.build_facts(tables, stats, derived, participants=(matched, per_unit), size_class_population=sizes)
    facts.write_facts(built, smk.output.facts)


run(main, snakemake)
