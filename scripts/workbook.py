"""Snakemake script of rules `workbook` (results/tabeller.xlsx, the national tables) and
`unit_workbook` (results/kommuner/<slug>.xlsx, one unit's or län's protected tables) and
`unit_workbooks` (every unit's and län's, in one process)."""

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
    if smk.rule == "unit_workbooks":
        shown = [a for a in every if a["kind"] in ("enhet", "lan")]
        paths = [Path(smk.params.results_dir) / f"{a['slug']}.xlsx" for a in shown]
    else:
        shown = [next(a for a in every if a["slug"] == smk.wildcards.slug and a["kind"] in ("enhet", "lan"))]
        paths = [Path(smk.output[0])]
    tables = pl.read_parquet(smk.input.tables)
    for info, path in zip(shown, paths, strict=True):
        workbook.area_workbook(
            tables,
            info,
            every,
            path,
            table_ids=table_ids(smk.params.diagrams),
            period=period,
            cutoff=cutoff,
            threshold=smk.params.threshold,
            demo=demo,
        )
    if smk.rule == "unit_workbooks":
        Path(smk.output.manifest).write_text(json.dumps([p.name for p in paths], indent=1), encoding="utf-8")


run(main, snakemake)
