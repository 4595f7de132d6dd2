"""Snakemake script of rule `figures`: all diagrams drawn from their tables."""

import re
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.reporting import figures
    from kvinnofrid.spec import diagrams

    registry = diagrams.load_registry()
    for path, png, svg in zip(smk.input.tables, smk.output.png, smk.output.svg):
        number = int(re.search(r"(\d+)", Path(path).stem).group(1))
        figures.save_figure(figures.draw_diagram(registry[number], pl.read_parquet(path)), png, svg)


run(main, snakemake)
