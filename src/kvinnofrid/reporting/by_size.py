"""The national report's results by municipality size, laid out: the key shares of the
country and every published size class or comparison group as one table per kind
(kvinnofrid.disclosure.size_results), hidden cells shown with the marks and notes of
kvinnofrid.reporting.hidden, and what the section says when no class can be shown.

``size_context(measures, areas, units_total, threshold)`` is what the section's text
(``report/text/storlek.md.j2``) sees as ``size``: ``tables`` (markdown, caption, notes,
one per kind of area), ``reason`` (why nothing can be shown, else None) and the counts
the text names. ``size_csv(measures)`` is the table a reader downloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from kvinnofrid.disclosure.area_tables import MIN_UNITS
from kvinnofrid.reporting.hidden import REASONS, mark, note
from kvinnofrid.reporting.markdown import escape_inline
from kvinnofrid.reporting.numfmt import fmt_int, fmt_pct
from kvinnofrid.reporting.swedish import antal

__all__ = ["CSV_NAME", "size_context", "size_csv"]

CSV_NAME = "storlek.csv"
SOFT_HYPHEN = "\u00ad"  # where a long column heading may break (registry size_measures)
# relative column widths (markdown.py): the areas' names wrap, the shares' headings need room
AREA_COLUMN = ":" + "-" * 24
SHARE_COLUMN = "-" * 10 + ":"
KIND_TITLES = {"storleksklass": "Storleksklass", "grupp": "Kommungrupp"}
CAPTIONS = {
    "storleksklass": "Nyckeltal efter kommunernas storlek (invånare), andel av de ärenden där uppgiften finns.",
    "grupp": "Nyckeltal efter kommungrupp, andel av de ärenden där uppgiften finns.",
}


def _cell(row: dict, threshold: int) -> tuple[str, str | None]:
    """The shown share, or the mark of why it is hidden (and that reason)."""
    if row["suppressed"]:
        reason = row["hidden_reason"]
        return mark(reason, threshold), reason or REASONS[-1]
    if row["denominator"] is None:
        return mark(row["denominator_reason"], threshold), row["denominator_reason"] or REASONS[-1]
    return fmt_pct(row["share"]), None


def _table(rows: pl.DataFrame, kind: str, units: Mapping[str, int], threshold: int) -> dict[str, Any]:
    measures = rows["measure"].unique(maintain_order=True).to_list()
    header = [KIND_TITLES.get(kind, "Område"), f"Verksam{SOFT_HYPHEN}heter", *measures]
    lines = [
        "| " + " | ".join(escape_inline(h) for h in header) + " |",
        "|" + "|".join([AREA_COLUMN] + [SHARE_COLUMN] * (len(header) - 1)) + "|",
    ]
    used: set[str] = set()
    for (area,), by_area in rows.group_by("area", maintain_order=True):
        cells = [escape_inline(area), fmt_int(units.get(area)) if units.get(area) is not None else "–"]
        for r in by_area.iter_rows(named=True):
            shown, reason = _cell(r, threshold)
            cells.append(shown)
            if reason:
                used.add(reason)
        lines.append("| " + " | ".join(cells) + " |")
    return {
        "kind": kind,
        "markdown": "\n".join(lines),
        "caption": CAPTIONS.get(kind, ""),
        "notes": [note(r, threshold) for r in REASONS if r in used],
        "areas": rows.filter(pl.col("area_kind") == kind)["area"].n_unique(),
    }


def size_context(
    measures: pl.DataFrame, areas: Sequence[Mapping[str, Any]], units_total: int, threshold: int
) -> dict[str, Any]:
    """What the section shows (module docstring). ``areas``: areas.json of rule
    unit_tables (kind, name, units); ``units_total``: the units in the report."""
    units = {a["name"]: len(a["units"]) for a in areas}
    kinds = [k for k in KIND_TITLES if (measures["area_kind"] == k).any()]
    tables = []
    for kind in kinds:
        rows = measures.filter(pl.col("area_kind").is_in(["riket", kind]))
        tables.append(_table(rows, kind, units, threshold))
    reason = None
    if not tables:
        if units_total < MIN_UNITS:
            reason = (
                f"Underlaget kommer från {antal(units_total)} "
                f"{'verksamhet' if units_total == 1 else 'verksamheter'}. Med färre än "
                f"{antal(MIN_UNITS)} verksamheter skulle en verksamhet kunna räkna fram de andras tal "
                "ur en jämförelse, så ingen jämförelse mellan kommuner av olika storlek kan visas."
            )
        else:
            reason = (
                f"Ingen storleksklass omfattar minst {antal(MIN_UNITS)} verksamheter. En jämförelse skulle då "
                "låta en verksamhet räkna fram de andras tal, så ingen jämförelse mellan kommuner av olika "
                "storlek kan visas."
            )
    words = {("storleksklass",): "storleksklass", ("grupp",): "kommungrupp"}
    area_word = words.get(tuple(kinds), "storleksklass och kommungrupp")
    return {"tables": tables, "reason": reason, "csv": f"tables/{CSV_NAME}", "area_word": area_word}


def size_csv(measures: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """The downloadable table: every area and share with its count, base, share and
    95 % interval (as the diagram tables: shares as fractions); a hidden value empty,
    with its mark in ``dold``."""
    rows = []
    for r in measures.iter_rows(named=True):
        shown, reason = _cell(r, threshold)
        visible = reason is None
        rows.append(
            {
                "område": r["area"],
                "nyckeltal": r["measure"].replace(SOFT_HYPHEN, ""),
                "antal": r["n"] if visible else None,
                "bas": r["denominator"],
                "andel": r["share"] if visible else None,
                "ki_lag": r["ci_low"] if visible else None,
                "ki_hog": r["ci_high"] if visible else None,
                "dold": None if visible else shown,
            }
        )
    schema = {"område": pl.String, "nyckeltal": pl.String, "antal": pl.Int64, "bas": pl.Int64}
    schema |= {"andel": pl.Float64, "ki_lag": pl.Float64, "ki_hog": pl.Float64, "dold": pl.String}
    return pl.DataFrame(rows, schema=schema)
