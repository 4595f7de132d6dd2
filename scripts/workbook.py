"""Snakemake script of rules `workbook` (results/tabeller.xlsx, the national tables) and
`unit_workbook` (results/kommuner/<slug>.xlsx, one unit's or län's protected tables)."""

import datetime as dt
import json
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.disclosure.area_tables import table_ids
    from kvinnofrid.reporting import workbook

    period = tuple(smk.params.period)
    cutoff = dt.date.fromisoformat(smk.params.cutoff)
    demo = bool(smk.input.demo_marker)
    if smk.rule == "workbook":
        tables = {int(Path(p).stem.split("_")[1]): pl.read_parquet(p) for p in smk.input.tables}
        workbook.national_workbook(tables, smk.output[0], period=period, cutoff=cutoff, demo=demo)
        return
    every = json.loads(Path(smk.input.areas).read_text(encoding="utf-8"))
    info = next(a for a in every if a["slug"] == smk.wildcards.slug and a["kind"] in ("enhet", "lan"))
    workbook.area_workbook(
        pl.read_parquet(smk.input.tables), info, every, smk.output[0],
        table_ids=table_ids(smk.params.diagrams), period=period, cutoff=cutoff,
        threshold=smk.params.threshold, demo=demo,
    )


run(main, snakemake)  # noqa: F821
