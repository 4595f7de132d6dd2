"""Snakemake script of rule `report_text`: the Quarto book project, text filled in."""

import json
import logging
import re
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.disclosure import area_tables
    from kvinnofrid.reporting import book, figure_map, provenance, trend_report
    from kvinnofrid.spec import diagrams
    from kvinnofrid.stages import rawfiles
    from kvinnofrid.statistics import participants

    # the map's files (png, svg, md) when config map.boundaries is set, else none
    map_files = [str(f) for f in smk.input.participants_map]
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
        participants_map=next((Path(f) for f in map_files if f.endswith(".md")), None),
        comparison=area_tables.group_tables(pl.read_parquet(smk.input.comparison)),
        areas=json.loads(Path(smk.input.areas).read_text(encoding="utf-8")),
        threshold=smk.params.threshold,
    )
    if not map_files:
        logging.getLogger("kvinnofrid").info(figure_map.NO_MAP_NOTICE)
    # the full record (checksums) the colophon links to; render_report publishes it beside the PDF
    provenance.write_record(origin, Path(smk.output[0]) / provenance.RECORD_NAME)


run(main, snakemake)
