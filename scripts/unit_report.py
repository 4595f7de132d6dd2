"""Snakemake script of rule `unit_report`: one unit's or one län's comparison report,
written as a Quarto project under build/kommuner/<slug>/ and rendered to HTML and PDF."""

import json
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.reporting import render, unit_report

    every = json.loads(Path(smk.input.areas).read_text(encoding="utf-8"))
    info = next(a for a in every if a["slug"] == smk.wildcards.slug and a["kind"] in ("enhet", "lan"))
    trend = (pl.read_parquet(smk.input.trend).filter(pl.col("area") == info["name"]).drop("area"))
    slugs = {a["name"]: a["slug"] for a in every if a["kind"] == "enhet"}
    build = Path(smk.params.build_dir)
    unit_report.build_area_report(
        build, info, every, pl.read_parquet(smk.input.tables), trend,
        pl.read_csv(Path(smk.input.quality) / "summary.csv"),
        report_src=smk.params.report_src, diagrams=smk.params.diagrams, period=smk.params.period,
        threshold=smk.params.threshold, demo=bool(smk.input.demo_marker), slugs=slugs,
    )
    render.render_book(build, Path(smk.output.html).parent, name=smk.wildcards.slug)


run(main, snakemake)  # noqa: F821
