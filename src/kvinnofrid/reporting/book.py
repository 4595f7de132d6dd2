"""The national report's Quarto book project, put together.

``build_book(build_dir, ...)`` writes into ``build_dir`` (``build/report/``) the project
``kvinnofrid.reporting.render.render_book`` renders (see render.py for the layout):

* ``_quarto.yml``: the copy of ``report/_quarto.yml`` with ``book.chapters`` /
  ``book.appendices`` set to the chapter files written here, ``book.date`` set from the
  provenance (the cut-off date, else the period's end) and, for demo data, a subtitle
  that says the numbers are simulated;
* ``assets/`` (copied), ``figures/diagram_NN.png|svg`` (copied from ``figures_dir``) and
  ``tables/diagram_NN.csv``: the tables a reader downloads, with the labels a reader
  sees (the codebook's ``display``: no form instructions); ``results/tables/`` keeps
  the form's labels, as the published data contract;
* one ``.qmd`` per ``report/*.qmd.j2`` template, rendered with jinja2
  (``StrictUndefined``: an unknown name stops the build with the template's name) in
  the context of kvinnofrid.reporting.text. ``index`` comes first, then the numbered
  chapters (``01-…``, ``02-…``), then the appendices (``bilaga-…``, ``kolofon``); a
  template that renders to nothing (chapter 3 while none of the authors' parts in it is
  written, kvinnofrid.reporting.authors) is left out of the book;
* ``pastaenden.json``: every claim the text made (kvinnofrid.reporting.writer), with
  its words and numbers, for the tests and for a reviewer.

Before returning, every written ``.qmd`` is checked (``text.check_output``): template
code or a missing value stops the build with ``TextError`` naming the chapter.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from kvinnofrid.disclosure import size_results
from kvinnofrid.reporting import by_size
from kvinnofrid.reporting.markdown import shown_labels
from kvinnofrid.reporting.text import (
    TEXT_DIR,
    TextError,
    check_output,
    make_environment,
    render_template,
    template_context,
)
from kvinnofrid.reporting.writer import Writer
from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.diagrams import Registry
from kvinnofrid.statistics.tables import table_csv

__all__ = ["CLAIMS_FILE", "build_book", "check_text_files"]

CLAIMS_FILE = "pastaenden.json"


def check_text_files(report_src: Path, registry: Registry) -> None:
    """The texts of chapter 2 are keyed by the registry: every ``text/<id>.md.j2`` must
    be a section's or a diagram's id (a renamed id would silently drop its text), and
    every passage of the registry must have its text, which says it (``w.passage``)."""
    folder = report_src / TEXT_DIR
    ids = set(registry.text_ids)
    for path in sorted(folder.glob("*.md.j2")) if folder.exists() else []:
        key = path.name.removesuffix(".md.j2")
        if key not in ids:
            raise TextError(
                f"Textfilen {path} hör inte till något avsnitt eller diagram i diagramregistret "
                "(spec/diagrams.yaml): byt namn på filen till ett avsnitts eller diagrams id, eller ta bort den."
            )
    for key in registry.passages:
        path = folder / f"{key}.md.j2"
        if not path.exists():
            raise TextError(f"Diagramregistret har jämförelser (passages) för {key!r}, men textfilen {path} saknas.")
        if f"w.passage('{key}'" not in path.read_text(encoding="utf-8"):
            raise TextError(f"Textfilen {path} säger inte sina jämförelser: lägg till {{{{ w.passage('{key}') }}}}.")


def _chapter_order(templates: list[str]) -> tuple[list[str], list[str]]:
    names = [t.removesuffix(".qmd.j2") + ".qmd" for t in templates]
    chapters = [n for n in names if n == "index.qmd"] + sorted(n for n in names if n[:1].isdigit())
    appendices = sorted(n for n in names if n not in chapters)
    return chapters, appendices


def _copy_files(src: Path | None, dest: Path, patterns: Sequence[str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    if src is None or not Path(src).exists():
        return
    for pattern in patterns:
        for f in sorted(Path(src).glob(pattern)):
            shutil.copyfile(f, dest / f.name)


def _copy_inputs(
    build_dir: Path,
    report_src: Path,
    figures_dir: Path | None,
    tables: Mapping[int, pl.DataFrame],
    registry: Registry,
    trend: pl.DataFrame | None,
    trend_figure: Path | None,
) -> None:
    """The assets, figures and tables the chapters link to."""
    if (report_src / "assets").exists():
        shutil.copytree(report_src / "assets", build_dir / "assets", dirs_exist_ok=True)
    _copy_files(figures_dir, build_dir / "figures", ["diagram_*.png", "diagram_*.svg"])
    (build_dir / "tables").mkdir(parents=True, exist_ok=True)
    for d in registry.diagrams:
        if d.number in tables:
            path = build_dir / "tables" / f"{d.slug}.csv"
            path.write_bytes(table_csv(shown_labels(tables[d.number])).encode("utf-8"))
    if trend_figure is not None:
        (build_dir / "figures").mkdir(parents=True, exist_ok=True)
        for suffix in (".png", ".svg"):
            if Path(trend_figure).with_suffix(suffix).exists():
                shutil.copyfile(Path(trend_figure).with_suffix(suffix), build_dir / "figures" / f"trend{suffix}")
    if trend is not None:
        (build_dir / "tables" / "trend.csv").write_bytes(table_csv(trend).encode("utf-8"))


def _write_chapters(build_dir: Path, report_src: Path, names: Sequence[str], context: Mapping[str, Any]) -> list[Path]:
    env = make_environment(report_src)
    written: list[Path] = []
    for name in names:
        text = render_template(env, name.removesuffix(".qmd") + ".qmd.j2", context)
        check_output(name, text)
        path = build_dir / name
        if not text.strip():  # a chapter of authors' parts none of which is written
            path.unlink(missing_ok=True)
            continue
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _write_quarto_yml(
    build_dir: Path, report_src: Path, chapters: list[str], appendices: list[str], provenance: Mapping[str, Any]
) -> Path:
    """``report/_quarto.yml`` with the chapters, the report's date and, for demo data,
    the subtitle that says so."""
    config = yaml.safe_load((report_src / "_quarto.yml").read_text(encoding="utf-8")) or {}
    book = config.setdefault("book", {})
    book["chapters"] = chapters
    book["appendices"] = appendices
    period = list(provenance.get("period") or ["", ""])
    date = provenance.get("cutoff") or (period[1] if len(period) > 1 else None) or provenance.get("generated")
    if date:
        book["date"] = str(date)
    if provenance.get("demo"):
        book["subtitle"] = (
            str(book.get("subtitle") or "").rstrip() + " – DEMOVERSION: alla siffror bygger på simulerade data"
        ).lstrip(" –")
    quarto_yml = build_dir / "_quarto.yml"
    quarto_yml.write_text(
        "# Generated by kvinnofrid.reporting.book.build_book from report/_quarto.yml; do not edit.\n"
        + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    check_output("_quarto.yml", quarto_yml.read_text(encoding="utf-8"))
    return quarto_yml


def build_book(
    build_dir: Path,
    *,
    facts: Mapping[str, Any],
    tables: Mapping[int, pl.DataFrame],
    stats: pl.DataFrame | None,
    registry: Registry,
    figures_dir: Path | None,
    tables_dir: Path | None,
    quality_summary: pl.DataFrame | None,
    participants: pl.DataFrame,
    provenance: Mapping[str, Any],
    report_src: Path = Path("report"),
    codebook: Codebook | None = None,
    trend: pl.DataFrame | None = None,
    trend_rounds: pl.DataFrame | None = None,
    trend_figure: Path | None = None,
    participants_map: Path | None = None,
    comparison: pl.DataFrame | None = None,
    areas: Sequence[Mapping[str, Any]] = (),
    threshold: int = 5,
) -> list[Path]:
    """Write the Quarto book project into ``build_dir``; returns the chapter files written
    (in book order), then ``_quarto.yml``. ``participants``: the marked list (participants.
    match_participants); ``tables_dir`` is unused (the downloadable tables come from
    ``tables``). ``comparison``, ``areas``, ``threshold``: the protected group tables of rule
    unit_tables, its areas.json and the threshold, for the results by municipality size."""
    build_dir, report_src = Path(build_dir), Path(report_src)
    build_dir.mkdir(parents=True, exist_ok=True)
    cb = codebook or codebook_module.load()
    _copy_inputs(build_dir, report_src, figures_dir, tables, registry, trend, trend_figure)
    if participants_map is not None:  # Figure 1 as a map: its PNG and SVG beside its Markdown
        _copy_files(Path(participants_map).parent, build_dir / "figures", ["karta.png", "karta.svg"])
    templates = sorted(p.name for p in report_src.glob("*.qmd.j2"))
    if not templates:
        raise TextError(f"Inga kapitelmallar (*.qmd.j2) finns i {report_src}")
    chapters, appendices = _chapter_order(templates)
    check_text_files(report_src, registry)
    measures = size_results.measure_rows(comparison, registry)
    writer = Writer(dict(tables), _with_size_comparisons(stats, measures, registry), registry, cb, dict(facts))
    context = template_context(
        facts=facts,
        tables=tables,
        writer=writer,
        cb=cb,
        quality_summary=quality_summary,
        participants=participants,
        provenance=provenance,
        report_src=report_src,
        trend=trend,
        trend_rounds=trend_rounds,
    )
    context["size"] = _size_section(build_dir, measures, areas, facts, threshold)
    context["participants_map"] = Path(participants_map).read_text(encoding="utf-8") if participants_map else None
    written = _write_chapters(build_dir, report_src, chapters + appendices, context)
    claims = json.dumps(writer.ledger_json(), ensure_ascii=False, indent=1, default=str)
    (build_dir / CLAIMS_FILE).write_text(claims + "\n", encoding="utf-8")
    kept = {p.name for p in written}
    chapters, appendices = [c for c in chapters if c in kept], [a for a in appendices if a in kept]
    return [*written, _write_quarto_yml(build_dir, report_src, chapters, appendices, provenance)]


def _with_size_comparisons(stats: pl.DataFrame | None, measures: pl.DataFrame, registry: Registry):
    """The comparisons behind the text, with each size class against the rest of the
    country added: the size section's family (passage storlek)."""
    size_rows = size_results.comparison_rows(measures, registry.labels["comparison_groups"]["rest"])
    if not size_rows.height:
        return stats
    return size_rows if stats is None or stats.is_empty() else pl.concat([stats, size_rows], how="vertical_relaxed")


def _size_section(build_dir: Path, measures: pl.DataFrame, areas, facts: Mapping[str, Any], threshold: int):
    """The results by municipality size: the template's context, and its downloadable table."""
    (build_dir / "tables" / by_size.CSV_NAME).write_bytes(
        table_csv(by_size.size_csv(measures, threshold)).encode("utf-8")
    )
    return by_size.size_context(measures, areas, int(facts.get("units_total") or 0), threshold)
