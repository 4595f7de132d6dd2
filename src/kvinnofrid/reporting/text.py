"""The text stage: the national report's Quarto book project, filled in.

``build_book(build_dir, ...)`` writes into ``build_dir`` (``build/report/``) the project
``kvinnofrid.reporting.render.render_book`` renders (see render.py for the layout):

* ``_quarto.yml``: the copy of ``report/_quarto.yml`` with ``book.chapters`` /
  ``book.appendices`` set to the chapter files written here, ``book.date`` set from the
  provenance (the cut-off date, else the period's end) and, for demo data, a subtitle
  that says the numbers are simulated;
* ``assets/`` (copied), ``figures/diagram_NN.png|svg`` and ``tables/diagram_NN.csv``
  (copied from ``figures_dir`` and ``tables_dir``);
* one ``.qmd`` per ``report/*.qmd.j2`` template, rendered with jinja2
  (``StrictUndefined``: an unknown name stops the build with the template's name).
  ``index`` comes first, then the numbered chapters (``01-…``, ``02-…``), then the
  appendices (every other template, sorted: ``bilaga-…``, ``kolofon``).

The templates see (``TemplateContext``):

``facts``          the flat dict of kvinnofrid.statistics.facts (``facts.share_women``)
``registry``       the diagram registry; ``codebook`` the codebook
``diagram(n)``     the Markdown of diagram n (markdown.diagram_block: figure, caption
                   "Diagram n: title", alt text, HTML table + CSV link)
``describe(n)``    a data-driven sentence about diagram n's table
``table_rows(n)``  the table's rows as dicts; ``row(n, category, group=None)`` one row
``significant(family, variable, category=None)``  True only when the stats row
                   exists and says ``significant`` (the statistics stage decides:
                   Holm-corrected p < 0.05)
``compare(family, variable, category=None, what=...)``  a sentence that gives both
                   groups' shares (or means) and says "skillnaden är statistiskt
                   säker" only when ``significant``; otherwise neutral wording
``author(name)``   the authors' Markdown ``report/forfattare/<name>.md``, verbatim
``participants``   rows (kommun, lan, enhet, sent_data) of the marked participants list
                   (results/participants.csv); the counts and ``participants_by_lan``
                   are facts (kvinnofrid.statistics.participants)
``quality``        the quality summary's rows, ``quality_rules`` the rule totals
``provenance``     see below; ``demo`` its demo flag
``trend``          the round comparison (kvinnofrid.reporting.trend_report.trend_context: ``text``,
                   ``block`` = figure + table, ``previous_label``, …), or None when
                   ``build_book`` got no trend table; its figure is copied to
                   ``figures/trend.png|svg`` and its table written to ``tables/trend.csv``

Jinja comments are written ``{## … ##}`` (``{#`` starts Pandoc attributes such as
``{#sec-id}``). The numfmt filters (``fmt_int``, ``fmt_dec``, ``fmt_pct``, ``fmt_num``, ``fmt_date``)
format every number the Swedish way.

``provenance`` (from kvinnofrid.reporting.provenance.provenance)::

    {"generated": "YYYY-MM-DD",          # date of generation (SOURCE_DATE_EPOCH aware)
     "code_version": "0.1.0 (abc123…)",  # package version + git commit
     "config_sha256": "…",               # digest of the configuration
     "inputs": [{"file": "2023-10-10/arboga.xlsx", "sha256": "…"}, …],
     "rounds": ["2023-05-15", "2023-10-10"],
     "period": ["2022-01-01", "2023-10-10"],
     "cutoff": "2023-10-10",             # optional; the report's date
     "demo": True,                       # simulated demo data → said on the title page
     "population_source": "demo"}        # scb | demo | None: Kolada figures not built

Before returning, every written ``.qmd`` is checked: ``{{``, ``{%``, ``None``, ``nan``
or ``NaN`` as a word stops the build with ``TextError`` naming the chapter.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import polars as pl
import yaml

from kvinnofrid.errors import UserFacingError
from kvinnofrid.reporting import figures as figures_module
from kvinnofrid.reporting import trend_report
from kvinnofrid.reporting.markdown import diagram_block, markdown_table
from kvinnofrid.reporting.numfmt import fmt_dec, fmt_int, fmt_pct, register_filters
from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.diagrams import Registry
from kvinnofrid.spec.names import slug
from kvinnofrid.spec.rules import RULES
from kvinnofrid.statistics.tables import table_csv

__all__ = ["FORBIDDEN", "TextError", "build_book", "check_output", "make_environment", "render_template"]

AUTHORS_DIR = "forfattare"
FORBIDDEN = re.compile(r"\{\{|\{%|\bNone\b|\bnan\b|\bNaN\b")
"""Text that must never reach the report: unfilled template code or a missing value."""


class TextError(UserFacingError):
    """A chapter could not be written; the message names the chapter (template)."""


# --------------------------------------------------------------------------- helpers


def _rows(table: pl.DataFrame) -> list[dict[str, Any]]:
    return table.to_dicts()


def _join(parts: Sequence[str]) -> str:
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " och " + parts[-1]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


class StatsLookup:
    """Rows of the comparison table (kvinnofrid.statistics.stats) by (family, variable, category)."""

    def __init__(self, stats: pl.DataFrame | None) -> None:
        self.rows: dict[tuple[str, str, str | None], dict[str, Any]] = {}
        if stats is not None and stats.height:
            for r in stats.iter_rows(named=True):
                self.rows.setdefault((r["comparison"], r["variable"], r.get("category")), r)

    def get(self, family: str, variable: str, category: str | None = None) -> dict[str, Any] | None:
        return self.rows.get((family, variable, category))

    def significant(self, family: str, variable: str, category: str | None = None) -> bool:
        """The statistics stage's decision (column ``significant``); no row: False."""
        row = self.get(family, variable, category)
        return bool(row is not None and row.get("significant"))

    def compare(self, family: str, variable: str, category: str | None = None, what: str = "") -> str:
        """One sentence comparing the two groups, with significance wording from the
        stats row's ``significant`` (None: not tested)."""
        row = self.get(family, variable, category)
        subject = what or (category or variable)
        if row is None:
            return f"Någon jämförelse av {_lower_first(subject)} kunde inte göras med dessa uppgifter."
        a, b = row["group_a"], row["group_b"]
        if row.get("share_a") is not None and row.get("share_b") is not None:
            body = (
                f"Andelen med {_lower_first(subject)} var {fmt_pct(row['share_a'])} i gruppen {a} "
                f"och {fmt_pct(row['share_b'])} i gruppen {b}"
            )
        elif row.get("mean_a") is not None and row.get("mean_b") is not None:
            body = (
                f"Genomsnittet för {_lower_first(subject)} var {fmt_dec(row['mean_a'])} i gruppen {a} "
                f"och {fmt_dec(row['mean_b'])} i gruppen {b}"
            )
        else:
            return f"Någon jämförelse av {_lower_first(subject)} kunde inte göras med dessa uppgifter."
        if row.get("significant") is None:
            return body + "; skillnaden har inte prövats statistiskt."
        if self.significant(family, variable, category):
            return body + "; skillnaden är statistiskt säker."
        return body + "; skillnaden är så liten att den kan bero på slumpen."


def describe_table(table: pl.DataFrame, kind: str, top: int = 3) -> str:
    """A data-driven sentence about one diagram table (its largest categories)."""
    visible = table.filter(~pl.col("suppressed").fill_null(False))
    groups = [g for g in visible["group"].unique(maintain_order=True).to_list() if g]

    def ranked_items(items: list[str]) -> str:
        first, rest = items[0], items[1:]
        return first + (", följt av " + _join(rest) if rest else "")

    def phrase(rows: pl.DataFrame) -> str:
        if rows["mean"].drop_nulls().len():
            ranked = rows.filter(pl.col("mean").is_not_null()).sort("mean", descending=True, maintain_order=True)
            hi, lo = ranked.row(0, named=True), ranked.row(-1, named=True)
            return (
                f"högst genomsnitt hade {hi['category']} ({fmt_dec(hi['mean'])} insatser) och lägst "
                f"{lo['category']} ({fmt_dec(lo['mean'])})"
            )
        if kind == "histogram" or not rows["share"].drop_nulls().len():
            ranked = rows.filter(pl.col("n").is_not_null()).sort("n", descending=True, maintain_order=True)
            items = [
                f"\u201d{r['category']}\u201d ({fmt_int(r['n'])} ärenden)"
                for r in ranked.head(top).iter_rows(named=True)
            ]
            return "fanns flest ärenden i " + ranked_items(items)
        ranked = rows.filter(pl.col("share").is_not_null()).sort("share", descending=True, maintain_order=True)
        first, *rest = list(ranked.head(top).iter_rows(named=True))
        items = [f"\u201d{r['category']}\u201d ({fmt_pct(r['share'])})" for r in rest]
        return f"var \u201d{first['category']}\u201d vanligast ({fmt_pct(first['share'])})" + (
            ", följt av " + _join(items) if items else ""
        )

    if visible.height == 0:
        return "Alla värden i diagrammet är dolda eftersom antalen är små."
    if kind == "phases":
        items = [
            f"{r['category'].lower()} {fmt_int(r['n'])} av {fmt_int(r['denominator'])}"
            for r in visible.iter_rows(named=True)
        ]
        return "Antal ärenden per fas: " + _join(items) + "."
    if groups:
        parts = []
        for g in groups:
            rows = visible.filter(pl.col("group") == g)
            parts.append(f"I gruppen {g} (N = {fmt_int(rows['denominator'][0])}) {phrase(rows)}.")
        return " ".join(parts)
    text = phrase(visible)
    n = visible["denominator"].drop_nulls()
    if n.len() and kind != "mean_bar":
        return f"Bland de {fmt_int(n[0])} ärendena i diagrammet {text}."
    if text.startswith("var "):
        return f"Här {text}."
    return text[0].upper() + text[1:] + "."


# --------------------------------------------------------------------------- jinja


def make_environment(report_src: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(report_src)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        # Pandoc attributes ("{#sec-id}") start like jinja comments: use other markers.
        comment_start_string="{##",
        comment_end_string="##}",
    )
    register_filters(env)
    env.filters["lower_first"] = _lower_first
    env.filters["slug"] = lambda text: slug(str(text))
    return env


def render_template(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one template; any error becomes TextError naming the template."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.UndefinedError as undefined:
        raise TextError(f"Kapitelmallen {name} använder ett namn som saknas: {undefined.message}") from undefined
    except jinja2.TemplateError as bad:
        raise TextError(f"Kapitelmallen {name} kunde inte fyllas i: {bad}") from bad
    except (KeyError, ValueError, TypeError) as bad:
        raise TextError(f"Kapitelmallen {name} kunde inte fyllas i: {bad}") from bad


def check_output(name: str, text: str) -> None:
    """Raise TextError if unfilled template code or a missing value reached the text."""
    match = FORBIDDEN.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise TextError(
            f"Kapitlet {name} innehåller {match.group(0)!r} på rad {line}: ett tal eller en text saknas i underlaget"
        )


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


def _quality_context(summary: pl.DataFrame | None) -> tuple[list[dict], list[dict], list[str], dict[str, int]]:
    if summary is None or summary.height == 0:
        return [], [], [], dict.fromkeys(("rows_read", "rows_used", "rows_excluded", "rows_quarantined"), 0)
    count_cols = ["rows_read", "rows_used", "rows_excluded", "rows_quarantined"]
    rule_cols = [c for c in summary.columns if c not in ("round", "unit", *count_cols)]
    rows = []
    for r in summary.sort(["round", "unit"]).iter_rows(named=True):
        rows.append({"round": str(r["round"]), "unit": r["unit"], **{c: int(r[c] or 0) for c in count_cols}})
    rules = []
    for c in rule_cols:
        total = int(summary[c].fill_null(0).sum())
        rule = RULES.get(c)
        rules.append(
            {
                "rule": c,
                "total": total,
                "per_round": {
                    str(k): int(v or 0)
                    for k, v in summary.group_by("round", maintain_order=True)
                    .agg(pl.col(c).sum())
                    .sort("round")
                    .iter_rows()
                },
                "outcome": getattr(rule, "outcome", "") or "",
                "text": getattr(rule, "description", "") or "",
            }
        )
    rounds = sorted({str(r) for r in summary["round"].to_list()})
    totals = {c: int(summary[c].fill_null(0).sum()) for c in count_cols}
    return rows, rules, rounds, totals


def _copy_inputs(
    build_dir: Path,
    report_src: Path,
    figures_dir: Path | None,
    tables_dir: Path | None,
    trend: pl.DataFrame | None,
    trend_figure: Path | None,
) -> None:
    """The assets, figures and tables the chapters link to, copied into the project."""
    if (report_src / "assets").exists():
        shutil.copytree(report_src / "assets", build_dir / "assets", dirs_exist_ok=True)
    _copy_files(figures_dir, build_dir / "figures", ["diagram_*.png", "diagram_*.svg"])
    _copy_files(tables_dir, build_dir / "tables", ["diagram_*.csv"])
    if trend_figure is not None:
        (build_dir / "figures").mkdir(parents=True, exist_ok=True)
        for suffix in (".png", ".svg"):
            if Path(trend_figure).with_suffix(suffix).exists():
                shutil.copyfile(Path(trend_figure).with_suffix(suffix), build_dir / "figures" / f"trend{suffix}")
    if trend is not None:
        (build_dir / "tables").mkdir(parents=True, exist_ok=True)
        (build_dir / "tables" / "trend.csv").write_bytes(table_csv(trend).encode("utf-8"))


def _diagram_functions(tables: Mapping[int, pl.DataFrame], registry: Registry, report_src: Path) -> dict[str, Any]:
    """The template functions that read one diagram's table or an author's text."""

    def diagram(number: int) -> str:
        d = registry[number]
        table = tables[number]
        return diagram_block(
            number,
            d.title,
            f"figures/{d.slug}.png",
            table,
            f"tables/{d.slug}.csv",
            figures_module.alt_text(table, d.title, kind=d.figure if d.table != "phases" else "phases"),
        )

    def describe(number: int) -> str:
        d = registry[number]
        return describe_table(tables[number], "phases" if d.table == "phases" else d.figure)

    def row(number: int, category: str, group: str | None = None) -> dict[str, Any]:
        t = tables[number].filter(pl.col("category") == category)
        if group is not None:
            t = t.filter(pl.col("group") == group)
        if t.height == 0:
            raise KeyError(
                f"diagram {number} har ingen kategori {category!r}" + (f" i gruppen {group!r}" if group else "")
            )
        return t.row(0, named=True)

    def author(name: str) -> str:
        path = report_src / AUTHORS_DIR / f"{name}.md"
        if not path.exists():
            raise KeyError(f"författartexten {path} saknas")
        return path.read_text(encoding="utf-8").strip("\n")

    return {
        "diagram": diagram,
        "describe": describe,
        "row": row,
        "author": author,
        "table_rows": lambda n: _rows(tables[n]),
        "markdown_table": lambda n: markdown_table(tables[n]),
    }


def _template_context(
    *,
    facts: Mapping[str, Any],
    tables: Mapping[int, pl.DataFrame],
    stats: pl.DataFrame | None,
    registry: Registry,
    cb: Codebook,
    quality_summary: pl.DataFrame | None,
    participants: pl.DataFrame,
    provenance: Mapping[str, Any],
    report_src: Path,
    trend: pl.DataFrame | None,
    trend_rounds: pl.DataFrame | None,
) -> dict[str, Any]:
    """What the chapter templates see (module docstring); every number comes from
    ``facts``, the tables, the stats rows, the quality summary or the provenance."""
    stats_lookup = StatsLookup(stats)
    q_rows, q_rules, q_rounds, q_totals = _quality_context(quality_summary)
    phases = [
        {"number": k, "name": v, "variables": [x for x in cb.variables if x.phase == k]}
        for k, v in sorted(cb.phases.items())
    ]
    for phase in phases:
        phase["n_variables"] = len(phase["variables"])
    return {
        "facts": dict(facts),
        "registry": registry,
        "codebook": cb,
        "phases": phases,
        "tables": tables,
        **_diagram_functions(tables, registry, report_src),
        "significant": stats_lookup.significant,
        "compare": stats_lookup.compare,
        "stat": stats_lookup.get,
        "participants": participants.to_dicts(),
        "quality": q_rows,
        "quality_rules": q_rules,
        "quality_rounds": q_rounds,
        "quality_totals": q_totals,
        "provenance": provenance,
        "period": list(provenance.get("period") or ["", ""]),
        "demo": bool(provenance.get("demo")),
        "multi_note": registry.multi_note,
        "trend": trend_report.trend_context(trend, trend_rounds) if trend is not None and trend.height else None,
    }


def _write_chapters(build_dir: Path, report_src: Path, names: Sequence[str], context: Mapping[str, Any]) -> list[Path]:
    env = make_environment(report_src)
    written: list[Path] = []
    for name in names:
        text = render_template(env, name.removesuffix(".qmd") + ".qmd.j2", context)
        check_output(name, text)
        path = build_dir / name
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
        "# Generated by kvinnofrid.reporting.text.build_book from report/_quarto.yml; do not edit.\n"
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
) -> list[Path]:
    """Write the Quarto book project into ``build_dir``; returns the chapter files written
    (in book order) followed by ``_quarto.yml``. ``participants``: the marked list
    (kvinnofrid.statistics.participants.match_participants). See the module docstring."""
    build_dir, report_src = Path(build_dir), Path(report_src)
    build_dir.mkdir(parents=True, exist_ok=True)
    _copy_inputs(build_dir, report_src, figures_dir, tables_dir, trend, trend_figure)
    templates = sorted(p.name for p in report_src.glob("*.qmd.j2"))
    if not templates:
        raise TextError(f"Inga kapitelmallar (*.qmd.j2) finns i {report_src}")
    chapters, appendices = _chapter_order(templates)
    context = _template_context(
        facts=facts,
        tables=tables,
        stats=stats,
        registry=registry,
        cb=codebook or codebook_module.load(),
        quality_summary=quality_summary,
        participants=participants,
        provenance=provenance,
        report_src=report_src,
        trend=trend,
        trend_rounds=trend_rounds,
    )
    written = _write_chapters(build_dir, report_src, chapters + appendices, context)
    return [*written, _write_quarto_yml(build_dir, report_src, chapters, appendices, provenance)]
