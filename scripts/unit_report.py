"""Snakemake script of rules `unit_reports` (one batch of areas, both editions, in one
process), `unit_report` and `unit_report_intern` (one area's one edition): each report
is written as a Quarto project under build/kommuner/[intern/]<slug>/ and rendered to
HTML and PDF in results/kommuner/[intern/]."""

import json
from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.reporting import render, unit_report

    every = json.loads(Path(smk.input.areas).read_text(encoding="utf-8"))
    # Wildcards is a list of values with names as attributes: `"batch" in` would test the values.
    if hasattr(smk.wildcards, "batch"):
        jobs = unit_report.batch_jobs(every, int(smk.wildcards.batch), smk.params.batches)
    else:
        jobs = [(smk.wildcards.slug, smk.params.edition)]
    editions = {edition for _, edition in jobs}
    # the internal tables are read only for internal editions
    sources = {
        unit_report.PUBLISHED: (smk.input.tables, smk.input.trend),
        unit_report.INTERNAL: (smk.input.tables_intern, smk.input.trend_intern),
    }
    frames = {e: (pl.read_parquet(t), pl.read_parquet(r)) for e, (t, r) in sources.items() if e in editions}
    timings = unit_report.write_reports(
        jobs,
        every,
        frames,
        pl.read_csv(Path(smk.input.quality) / "summary.csv"),
        results_dir=smk.params.results_dir,
        build_root=smk.params.build_root,
        render=render.render_documents,
        report_src=smk.params.report_src,
        diagrams=smk.params.diagrams,
        period=smk.params.period,
        threshold=smk.params.threshold,
        demo=bool(smk.input.demo_marker),
    )
    if hasattr(smk.output, "manifest"):
        Path(smk.output.manifest).write_text(
            json.dumps([{"slug": s, "edition": e} for s, e in jobs], ensure_ascii=False, indent=1), encoding="utf-8"
        )
    if hasattr(smk.log, "timings"):
        Path(smk.log.timings).write_text(json.dumps(timings, ensure_ascii=False, indent=1), encoding="utf-8")


run(main, snakemake)
