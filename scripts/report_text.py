"""Snakemake script of rule `report_text`: the Quarto book project, text filled in."""

import json
import re
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.reporting import book, provenance, trend_report
    from kvinnofrid.spec import diagrams
    from kvinnofrid.stages import rawfiles
    from kvinnofrid.statistics import participants

    tables = {int(re.search(r"(\d+)", Path(p).stem).group(1)): pl.read_parquet(p) for p in smk.input.tables_parquet}
    # provenance looks for the demo marker (a declared input when present) in the raw
    # folder, data_raw/<round>/[sub-folder/]<file> of the raw inputs.
    raw_folder = rawfiles.round_folder_of(Path(smk.input.raw[0])).parent
    origin = provenance.provenance(
        list(zip(smk.params.raw_names, map(Path, smk.input.raw))),
        raw_folder,
        smk.params.settings,
        smk.params.period,
        smk.params.cutoff,
        smk.params.population_source,
    )
    book.build_book(
        Path(smk.output[0]),
        facts=json.loads(Path(smk.input.facts).read_text(encoding="utf-8")),
        tables=tables,
        stats=pl.read_parquet(smk.input.stats),
        registry=diagrams.load_registry(),
        figures_dir=Path(smk.input.figures[0]).parent,
        tables_dir=Path(smk.input.tables[0]).parent,
        quality_summary=pl.read_csv(Path(smk.input.quality) / "summary.csv"),
        participants=participants.read_participants(smk.input.participants),
        provenance=origin,
        report_src=Path(smk.params.report_src),
        trend=trend_report.read_trend(smk.input.trend),
        trend_rounds=trend_report.read_rounds(smk.input.trend_rounds),
        trend_figure=Path(smk.input.trend_figure),
    )


run(main, snakemake)
