"""Snakemake script of rule `figures`: all diagrams drawn from their tables."""

import json
import re
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid import diagrams, figures

    registry = diagrams.load_registry()
    alt = {}
    for path, png, svg in zip(smk.input.tables, smk.output.png, smk.output.svg):
        number = int(re.search(r"(\d+)", Path(path).stem).group(1))
        entry, table = registry[number], pl.read_parquet(path)
        figures.save_figure(figures.draw_diagram(entry, table), png, svg)
        alt[f"{number:02d}"] = figures.alt_text(table, entry.title, kind=entry.figure)
    Path(smk.output.alt).write_text(json.dumps(alt, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


run(main, snakemake)  # noqa: F821
