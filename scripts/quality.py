"""Snakemake script of rule `quality`: summary.csv and one feedback page per unit."""

from pathlib import Path

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.stages import batches, quality

    cleaned = batches.read_batches(smk.input.reports, issues=smk.input.issues)
    warnings = pl.read_parquet(smk.input.warnings)
    units = pl.read_csv(smk.input.units, try_parse_dates=True)
    folder = Path(smk.output.folder)
    folder.mkdir(parents=True, exist_ok=True)
    quality.quality_summary(cleaned, warnings, units=units).write_csv(folder / "summary.csv")
    readable = [(meta, result) for meta, result in cleaned if not meta.get("unreadable")]
    quality.not_exports_table(smk.params.not_exports).write_csv(folder / "not_exports.csv")
    for slug, html in quality.unit_pages(readable, warnings, units=units).items():
        (folder / f"{slug}.html").write_text(html, encoding="utf-8")


run(main, snakemake)
