"""The report's templates: the jinja environment, the context they see, and the checks
every written chapter passes. The book itself is put together by
kvinnofrid.reporting.book (``build_book``); the unit reports use the same environment.

The templates see (``template_context``):

``facts``          the flat dict of kvinnofrid.statistics.facts (``facts.share_women``)
``registry``       the diagram registry; ``codebook`` the codebook; ``phases`` its phases
``w``              the claim functions (kvinnofrid.reporting.writer.Writer): every
                   data-dependent word ("de flesta", "vanligast", "högre", "statistiskt
                   säkerställd") comes from them, never from a template
``diagram(n)``     the Markdown of diagram n (markdown.diagram_block: figure, caption
                   "Diagram n: title", alt text, HTML table + CSV link)
``row(n, category, group=None)`` one row of a table; ``table_rows(n)`` all of them
``author(id)``     an authors' part ``report/forfattare/<id>.md`` with its heading, or
                   nothing while it is not written (kvinnofrid.reporting.authors);
                   ``authors_after(id)`` the parts after a chapter 2 section or diagram,
                   ``authored(*ids)`` whether any is written, ``author_parts`` all of them
``participants``   rows (kommun, lan, enhet, sent_data) of the marked participants list
``participants_map`` the Markdown of Figure 1 as a map (kvinnofrid.reporting.figure_map,
                   rule participants_map), or None without a boundary file
``method``         Bilaga 3's numbers (kvinnofrid.reporting.method.method_context)
``provenance``     kvinnofrid.reporting.provenance.provenance; ``demo`` its demo flag,
                   ``period`` its period as dates in prose ("1 januari 2022")
``trend``          the round comparison (trend_report.trend_context) or None

Chapter 2 includes ``report/text/<id>.md.j2`` for every section and diagram id of the
registry that has one (``{% include … ignore missing %}``); a test fails for a text
file no id names.

Jinja comments are written ``{## … ##}`` (``{#`` starts Pandoc attributes such as
``{#sec-id}``). Filters: the numfmt ones for tables (``fmt_int``, ``fmt_pct``, …) and
for prose ``procent`` ("94 procent"), ``antal`` (words up to twelve), ``arenden``
("ett ärende", "sex ärenden"), ``datum`` ("10 oktober 2023"), ``decimal``, ``sv_join``
("a, b och c").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from kvinnofrid.errors import UserFacingError
from kvinnofrid.reporting import authors, swedish, trend_report
from kvinnofrid.reporting.figure_alt import alt_text
from kvinnofrid.reporting.markdown import diagram_block, markdown_table
from kvinnofrid.reporting.method import method_context
from kvinnofrid.reporting.numfmt import register_filters
from kvinnofrid.reporting.wording import Said
from kvinnofrid.reporting.writer import Writer
from kvinnofrid.spec.codebook import Codebook, lower_first
from kvinnofrid.spec.diagrams import Registry
from kvinnofrid.spec.names import slug

__all__ = [
    "FORBIDDEN",
    "TextError",
    "check_output",
    "make_environment",
    "render_template",
    "template_context",
]

TEXT_DIR = "text"
FORBIDDEN = re.compile(r"\{\{|\}\}|\{%|%\}|\{#\s|#\}|\bNone\b|\bnan\b|\bNaN\b")
"""Text that must never reach the report: template code (a tag, an expression, a
comment), or a missing value."""


class TextError(UserFacingError):
    """A chapter could not be written; the message names the chapter (template)."""


def make_environment(report_src: Path) -> jinja2.Environment:
    """The templates of a report folder. One environment per folder and process, so a
    template is compiled once, not once per report (a batch of unit reports renders the
    same templates dozens of times); jinja2 compiles it again when its file changes."""
    return _environment(str(Path(report_src).resolve()))


@lru_cache(maxsize=16)
def _environment(report_src: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(report_src),
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
    env.filters["lower_first"] = lower_first
    env.filters["slug"] = lambda text: slug(str(text))
    env.filters["procent"] = swedish.procent
    env.filters["antal"] = swedish.antal
    env.filters["arenden"] = swedish.arenden
    env.filters["sv_join"] = swedish.join
    env.filters["datum"] = swedish.datum
    env.filters["decimal"] = swedish.decimal
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
    """Raise TextError if template code or a missing value reached the text."""
    match = FORBIDDEN.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise TextError(
            f"Kapitlet {name} innehåller {match.group(0)!r} på rad {line}: ett tal eller en text saknas i underlaget"
        )


def _diagram_functions(
    tables: Mapping[int, pl.DataFrame], registry: Registry, report_src: Path, cb: Codebook
) -> dict[str, Any]:
    """The template functions that read one diagram's table or an author's text."""

    def diagram(number: int) -> str:
        d = registry[number]
        table = tables[number]
        kind = "phases" if d.table == "phases" else d.figure
        alt = alt_text(table, d.title, kind=kind, notes=registry.notes_for(number))
        # a count of all cases (diagram 1's first row) is 100 % by definition: no interval
        census = [
            r["label"]
            for r in d.extra.get("rows", [])
            if r.get("base") == "all" and set(r) <= {"label", "base", "matches"}
        ]
        return diagram_block(
            number, d.title, f"figures/{d.slug}.png", table, f"tables/{d.slug}.csv", alt, no_interval=census
        )

    def row(number: int, category: str, group: str | None = None) -> dict[str, Any]:
        t = tables[number].filter(pl.col("category") == category)
        if group is not None:
            t = t.filter(pl.col("group") == group)
        if t.height == 0:
            raise KeyError(
                f"diagram {number} har ingen kategori {category!r}" + (f" i gruppen {group!r}" if group else "")
            )
        return t.row(0, named=True)

    return {
        "diagram": diagram,
        "row": row,
        "table_rows": lambda n: tables[n].to_dicts(),
        "markdown_table": lambda n: markdown_table(tables[n]),
    }


def _author_functions(report_src: Path, registry: Registry) -> dict[str, Any]:
    """The template functions of the authors' parts (kvinnofrid.reporting.authors)."""
    parts = authors.load_parts(report_src)
    authors.check_parts(report_src, parts, registry.text_ids)
    by_id = {p.id: p for p in parts}
    texts = {p.id: authors.written_text(report_src, p) for p in parts}

    def author(part_id: str) -> str:
        if part_id not in by_id:
            raise KeyError(f"författartexten {part_id!r} finns inte i {authors.AUTHORS_DIR}/{authors.PARTS_FILE}")
        return authors.block(by_id[part_id], texts[part_id])

    def authors_after(key: str) -> str:
        return "\n".join(author(p.id) for p in parts if p.after == key and texts[p.id])

    return {
        "author": author,
        "authors_after": authors_after,
        "authored": lambda *ids: any(texts[i] for i in ids),
        "author_parts": [
            {
                "id": p.id,
                "place": p.place,
                "heading": p.heading,
                "written": authors.is_written(texts[p.id], p),
                "placeholder": p.placeholder,
            }
            for p in parts
        ],
    }


def template_context(
    *,
    facts: Mapping[str, Any],
    tables: Mapping[int, pl.DataFrame],
    writer: Writer,
    cb: Codebook,
    quality_summary: pl.DataFrame | None,
    participants: pl.DataFrame,
    provenance: Mapping[str, Any],
    report_src: Path,
    trend: pl.DataFrame | None,
    trend_rounds: pl.DataFrame | None,
) -> dict[str, Any]:
    """What the chapter templates see (module docstring); every number comes from
    ``facts``, the tables, the claims, the quality summary or the provenance."""
    registry = writer.registry
    phases = [
        {"number": k, "name": v, "variables": [x for x in cb.variables if x.phase == k]}
        for k, v in sorted(cb.phases.items())
    ]
    for phase in phases:
        phase["n_variables"] = len(phase["variables"])
    period = list(provenance.get("period") or [])
    rounds_context = trend_report.trend_context(trend, trend_rounds) if trend is not None and trend.height else None
    if rounds_context and rounds_context["text"]:
        # the round comparison's words ("högst", "störst", "desamma") are claims too
        change = rounds_context["change"]
        points = [c["points"] for c in change["changes"]]
        words = () if not points else ("högst", "störst") if max(points) else ("desamma",)
        writer.ledger.append(Said("rounds", rounds_context["text"], words, change))
    return {
        "facts": dict(facts),
        "registry": registry,
        "codebook": cb,
        "phases": phases,
        "tables": tables,
        "w": writer,
        **_diagram_functions(tables, registry, report_src, cb),
        **_author_functions(report_src, registry),
        "participants": participants.to_dicts(),
        "method": method_context(quality_summary, facts, writer),
        "provenance": provenance,
        "period": [swedish.datum(p) for p in period] if len(period) == 2 else ["", ""],
        "rounds": [swedish.datum(r) for r in provenance.get("rounds") or []],
        "demo": bool(provenance.get("demo")),
        "multi_note": registry.multi_note,
        "trend": rounds_context,
    }
