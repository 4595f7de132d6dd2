"""Snakemake script of rule `trend`: key shares per round beside the previous report's
values (results/trend/trend.csv) and the cases per round (results/trend/rounds.csv)."""

import datetime as dt
import re
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.errors import UserFacingError
    from kvinnofrid.statistics import tables, trend

    rounds = [dt.date.fromisoformat(r) for r in smk.params.rounds]
    # Earlier rounds: compiled at their date; the last round is the national compilation
    # itself, and its shares are read from the national tables as published.
    derived = {r: pl.read_parquet(p) for r, p in zip(rounds[:-1], smk.input.earlier, strict=True)}
    derived[rounds[-1]] = pl.read_parquet(smk.input.final)
    national = {int(re.search(r"(\d+)", Path(p).stem).group(1)): pl.read_parquet(p) for p in smk.input.tables}
    settings = smk.params.trend
    try:
        shares = trend.round_trend(
            derived,
            settings["previous"],
            measures=settings["measures"],
            previous_label=settings["previous_label"],
            settings={"honour_interventions_min": smk.params.honour_interventions_min},
            tables_by_round={rounds[-1]: national},
        )
    except ValueError as problem:  # a measure that does not fit its table: name it
        raise UserFacingError(f"Jämförelsen mellan omgångarna (config.yaml, trend.measures): {problem}") from None
    Path(smk.output.csv).parent.mkdir(parents=True, exist_ok=True)
    Path(smk.output.csv).write_bytes(tables.table_csv(shares).encode("utf-8"))
    Path(smk.output.rounds).write_bytes(tables.table_csv(trend.round_cases(derived)).encode("utf-8"))


run(main, snakemake)
