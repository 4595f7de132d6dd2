"""Pandoc Markdown pieces shared by the national report, the round comparison and the
unit reports: a diagram's figure + table block, a diagram table as a pipe table or as
the raw HTML of that table, and the escaping of inline text and attribute values.

Every table a reader sees shows the codebook's display labels (``shown_labels``: no
form instructions such as "(ange i kommentar)"), and a confidence interval only where
the share is an estimate: the rows named in ``no_interval`` (a count of all cases, such
as diagram 1's "Aktualiserade", is 100 % by definition) show "–", and an interval
whose ends round to the same whole percent is given with one decimal.

``diagram_block(...)`` writes the Pandoc Markdown of one diagram (figure with caption
"Diagram N: title" and alt text, then in HTML a collapsible table and a CSV link).
Its table is raw HTML (``html_table``), since Quarto's filters spend seconds per report
on pipe tables that only the HTML shows."""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from pathlib import Path

import polars as pl

from kvinnofrid.reporting.hidden import REASONS, mark, note, reason_of
from kvinnofrid.reporting.numfmt import MISSING, fmt_dec, fmt_int, fmt_pct
from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.names import slug

__all__ = ["attribute_text", "diagram_block", "escape_inline", "html_table", "markdown_table", "shown_labels"]


def shown_labels(table: pl.DataFrame) -> pl.DataFrame:
    """The table with the labels a reader sees in ``category`` and ``group`` (the
    codebook's ``display`` where the form's label carries an instruction)."""
    shown = codebook_module.load().display_labels()
    if not shown:
        return table
    columns = [c for c in ("category", "group") if c in table.columns and table.schema[c] == pl.String]
    return table.with_columns(pl.col(c).replace(shown) for c in columns)


def interval_text(low: float | None, high: float | None, hidden: bool = False) -> str:
    """``93 %–95 %`` (``94,1 %–94,4 %`` when the whole percents coincide); "–" where
    hidden or missing."""
    if hidden or low is None or high is None:
        return MISSING
    digits = 1 if fmt_pct(low) == fmt_pct(high) else 0
    return f"{fmt_pct(low, digits)}–{fmt_pct(high, digits)}"


def escape_inline(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", str(text))


# The dashes of a pipe table's separator line set its relative column widths (Pandoc,
# once a row is longer than 72 characters, in HTML and in Typst alike): labels get
# wide columns and wrap inside them, numbers narrow ones they never need to wrap in.
# Equal dashes gave every column the same width, so a long label was broken into many
# lines beside squeezed numbers.
TEXT_COLUMN = ":" + "-" * 15
WIDE_TEXT_COLUMN = ":" + "-" * 27
NUMBER_COLUMN = "-" * 7 + ":"
INTERVAL_COLUMN = "-" * 11 + ":"


# Pandoc's --columns default: a pipe table with a longer source line gets the relative
# widths of its separator line (see above); a shorter table none.
PANDOC_COLUMNS = 72


def _cell(text: str) -> str:
    return escape_inline(text).replace("\n", " ")


def _table_cells(
    table: pl.DataFrame, threshold: int, no_interval: Collection[str]
) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """The header (name, separator of its pipe-table column) and the rows' shown texts."""
    cols = set(table.columns)
    rows = shown_labels(table).to_dicts()
    has_group = "group" in cols and any(r.get("group") for r in rows)
    has_share = "share" in cols and any(r.get("share") is not None for r in rows)
    has_mean = "mean" in cols and any(r.get("mean") is not None for r in rows)
    has_ci = has_share and "ci_low" in cols and any(r.get("ci_low") is not None for r in rows)
    header: list[tuple[str, str]] = []
    if has_group:
        header.append(("Grupp", TEXT_COLUMN))
    header += [("Kategori", WIDE_TEXT_COLUMN), ("Antal", NUMBER_COLUMN), ("Bas (N)", NUMBER_COLUMN)]
    if has_share:
        header.append(("Andel", NUMBER_COLUMN))
    if has_ci:
        header.append(("95 % konfidensintervall", INTERVAL_COLUMN))
    if has_mean:
        header.append(("Medelvärde", NUMBER_COLUMN))
    shown_rows = []
    for r in rows:
        hidden = bool(r.get("suppressed"))
        cells: list[str] = []
        if has_group:
            cells.append(str(r.get("group") or ""))
        cells.append(str(r.get("category") or ""))
        shown = mark(reason_of(r), threshold)
        cells.append(shown if hidden else fmt_int(r.get("n")))
        d_hidden = r.get("denominator") is None and r.get("denominator_reason")
        cells.append(mark(r.get("denominator_reason"), threshold) if d_hidden else fmt_int(r.get("denominator")))
        if has_share:
            cells.append(shown if hidden else fmt_pct(r.get("share")))
        if has_ci:
            census = r.get("category") in no_interval and not r.get("group")
            cells.append(interval_text(r.get("ci_low"), r.get("ci_high"), hidden or census))
        if has_mean:
            cells.append(MISSING if hidden or r.get("mean") is None else fmt_dec(r.get("mean")))
        shown_rows.append(cells)
    return header, shown_rows


def _pipe_lines(header: list[tuple[str, str]], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(h for h, _ in header) + " |", "|" + "|".join(a for _, a in header) + "|"]
    return lines + ["| " + " | ".join(_cell(c) for c in cells) + " |" for cells in rows]


def markdown_table(table: pl.DataFrame, threshold: int = 5, no_interval: Collection[str] = ()) -> str:
    """A pipe table of a diagram table with Swedish numbers; a hidden value shows the
    mark of its reason (``<5`` or ``dold``, kvinnofrid.reporting.hidden); the categories
    in ``no_interval`` are counts of all cases, shown without an interval."""
    return "\n".join(_pipe_lines(*_table_cells(table, threshold, no_interval)))


def html_table(table: pl.DataFrame, threshold: int = 5, no_interval: Collection[str] = ()) -> str:
    """The table of ``markdown_table`` as HTML, cell for cell what Pandoc makes of that
    pipe table (the same widths and alignment) with the classes Quarto's HTML adds
    (``caption-top table``, rows ``header``/``odd``/``even``).

    For the tables shown only in HTML: Quarto's Lua filters and its HTML post-processing
    take about 2 CPU s per unit report over its pipe tables, and nothing over a raw HTML
    table when ``html-table-processing: none`` is set (measured: docs/developers.md).
    Cell texts are written as they are, without Markdown's typography (``"`` stays ``"``)."""
    header, rows = _table_cells(table, threshold, no_interval)
    lines = _pipe_lines(header, rows)
    align = [f' style="text-align: {"left" if a.startswith(":") else "right"};"' for _, a in header]
    out = ['<table class="caption-top table">']
    if max(len(line) for line in lines) > PANDOC_COLUMNS:
        total = sum(len(a) for _, a in header)
        out += ["<colgroup>", *(f'<col style="width: {int(100 * (len(a) / total))}%">' for _, a in header)]
        out.append("</colgroup>")
    heads = [f"<th{s}>{_html_text(h)}</th>" for (h, _), s in zip(header, align, strict=True)]
    out += ["<thead>", '<tr class="header">', *heads, "</tr>", "</thead>", "<tbody>"]
    for k, cells in enumerate(rows):
        out.append(f'<tr class="{"even" if k % 2 else "odd"}">')
        out += [f"<td{s}>{_html_text(c)}</td>" for c, s in zip(cells, align, strict=True)]
        out.append("</tr>")
    return "\n".join([*out, "</tbody>", "</table>"])


def _html_text(text: str) -> str:
    """A cell's text as Pandoc writes it: runs of spaces and line breaks as one space."""
    return html.escape(re.sub(r"[ \t\r\n]+", " ", text).strip(" "), quote=False)


def _mark_notes(table: pl.DataFrame, threshold: int) -> list[str]:
    """A line per mark the table uses, explaining it."""
    if "suppressed" not in table.columns:
        return []
    used = {reason_of(r) for r in table.filter(pl.col("suppressed").fill_null(False)).to_dicts()}
    return [f"{note(r, threshold)}\n" for r in REASONS if r in used]


def attribute_text(text: str) -> str:
    """Text safe inside a double-quoted Pandoc attribute (``fig-alt="…"``): backslashes
    doubled, straight quotes replaced by the Swedish closing quote, one line."""
    return str(text).replace("\\", "\\\\").replace('"', "\u201d").replace("\n", " ")


def diagram_block(
    number: int,
    title: str,
    image: str | Path,
    table: pl.DataFrame,
    csv: str | Path,
    alt: str,
    *,
    label: str | None = None,
    threshold: int = 5,
    no_interval: Collection[str] = (),
) -> str:
    """The Pandoc Markdown of one diagram, for the chapter templates.

    * the figure ``![Diagram N: Title](image){#diagram-NN fig-alt="..."}``; the id is
      not ``fig-…`` so Quarto does not add its own "Figur N" number: the caption
      carries the report's own "Diagram N" numbering in every format;
    * an HTML-only block (``.content-visible when-format="html"``) with a collapsible
      ``<details>`` holding the table (raw HTML, ``html_table``: Swedish numbers) and a
      download link to the CSV
      (class ``csv-download``: the filter embeds it as a data: URI).

    ``image`` and ``csv`` are paths relative to the project directory. ``label``
    replaces "Diagram N" in caption, anchor and summary (the unit reports' figures).
    """
    label = label or f"Diagram {number}"
    caption = f"{escape_inline(label)}: {escape_inline(title)}"
    anchor = slug(label) if label != f"Diagram {number}" else f"diagram-{number:02d}"
    csv_path = Path(csv).as_posix()
    return "\n".join(
        [
            f'![{caption}]({Path(image).as_posix()}){{#{anchor} fig-alt="{attribute_text(alt)}" width="100%"}}',
            "",
            '::: {.content-visible when-format="html"}',
            "```{=html}",
            f'<details class="diagram-table"><summary>Visa tabellen till {label[:1].lower() + label[1:]}</summary>',
            html_table(table, threshold, no_interval),
            "```",
            "",
            *_mark_notes(table, threshold),
            f'[Ladda ner tabellen som CSV]({csv_path}){{.csv-download download="{Path(csv_path).name}"}}',
            "",
            "```{=html}",
            "</details>",
            "```",
            ":::",
            "",
        ]
    )
