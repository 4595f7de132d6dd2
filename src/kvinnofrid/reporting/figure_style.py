"""The house style every figure shares, with no drawing library: colours, font, sizes,
the notes under a figure, and what a figure reads from its diagram table (the contract's
columns, its groups and categories, the N line). The figure kinds
(``reporting.figures``, plotnine), their alt text (``reporting.figure_alt``) and the
comparison reports' SVG bars (``reporting.comparison_figure``) all draw on it,
so the three cannot drift apart.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from kvinnofrid.reporting.numfmt import fmt_int, fmt_num, fmt_pct
from kvinnofrid.spec.diagrams import load_registry

# Okabe–Ito: distinguishable with the common colour-vision deficiencies and in greyscale
# order; blue first so single-series figures look like SKR's blue bars.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7", "#F0E442", "#000000"]
HIGHLIGHT = "#E69F00"
NOT_REGISTERED = "#C8C8C8"
TEXT_COLOUR = "#222222"
HIDDEN_COLOUR = "#555555"  # the "dold" mark: readable (contrast 7:1 on white), apart from values
FONT = "DejaVu Sans"  # ships with matplotlib: å, ä, ö, NBSP and the minus sign


@functools.cache
def font_dir() -> Path:
    """The folder of ``FONT``'s files (matplotlib's own copy): Typst sets the SVG
    figures' words with them, so the PDF does not depend on the fonts a machine has."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


# The registry's multi-choice note (diagrams.yaml multi_note), as a sentence.
MULTI_NOTE = load_registry().multi_note.rstrip(".") + "."
SUPPRESSED_NOTE = "* dold: för få ärenden för att visas."
SUPPRESSED_LABEL = "dold*"

WIDTH_IN = 7.0
DPI = 200
LABEL_WIDTH = 34  # characters per line of a category label
LEGEND_WIDTH = 70  # characters per line of a legend entry (one entry per line)
TITLE_WIDTH = 64
SUBTITLE_WIDTH = 88
CAPTION_WIDTH = 80  # characters per line of a note under a figure

KINDS = ("bar", "grouped_bar", "stacked_bar", "histogram", "mean_bar", "phases")

TABLE_COLUMNS = ("group", "category", "n", "denominator", "share", "ci_low", "ci_high", "mean", "suppressed")


# a space between digit groups (``99 999``) never breaks a line (Svenska skrivregler)
_DIGIT_GROUP = re.compile(r"(?<=\d) (?=\d{3}\b)")
_KEEP = "\x00"


def wrap(text: str, width: int = LABEL_WIDTH) -> str:
    kept = _DIGIT_GROUP.sub(_KEEP, str(text))
    return ("\n".join(textwrap.wrap(kept, width)) or kept).replace(_KEEP, " ")


def pct_axis(breaks: Sequence[float]) -> list[str]:
    return [fmt_pct(b) for b in breaks]


def int_axis(breaks: Sequence[float]) -> list[str]:
    return [fmt_int(b) for b in breaks]


def dec_axis(breaks: Sequence[float]) -> list[str]:
    return [fmt_num(b) for b in breaks]


def table_frame(table: pl.DataFrame) -> pl.DataFrame:
    """The table with every contract column present and typed loosely."""
    missing = [c for c in ("category",) if c not in table.columns]
    if missing:
        raise ValueError(f"diagramtabellen saknar kolumnen {missing[0]!r}")
    if _framed(table):
        return table.select(TABLE_COLUMNS)  # typed already: a figure frames its table once, its parts reuse it
    defaults = {
        "group": pl.lit(None, pl.String),
        "n": pl.lit(None, pl.Int64),
        "denominator": pl.lit(None, pl.Int64),
        "share": pl.lit(None, pl.Float64),
        "ci_low": pl.lit(None, pl.Float64),
        "ci_high": pl.lit(None, pl.Float64),
        "mean": pl.lit(None, pl.Float64),
        "suppressed": pl.lit(False),
    }
    frame = table.with_columns([expr.alias(c) for c, expr in defaults.items() if c not in table.columns])
    return frame.with_columns(
        pl.col("group").cast(pl.String).fill_null(""),
        pl.col("category").cast(pl.String),
        pl.col("suppressed").cast(pl.Boolean).fill_null(False),
        pl.col("share").cast(pl.Float64),
        pl.col("mean").cast(pl.Float64),
    ).select(TABLE_COLUMNS)


# The types table_frame gives the columns it casts (the others keep theirs).
_FRAME_TYPES = {
    "group": pl.String(),
    "category": pl.String(),
    "suppressed": pl.Boolean(),
    "share": pl.Float64(),
    "mean": pl.Float64(),
}


def _framed(table: pl.DataFrame) -> bool:
    schema = table.schema
    return (
        all(c in schema for c in TABLE_COLUMNS)
        and all(schema[c] == t for c, t in _FRAME_TYPES.items())
        and not table["group"].has_nulls()
        and not table["suppressed"].has_nulls()
    )


def groups_of(frame: pl.DataFrame) -> list[str]:
    return [g for g in frame["group"].unique(maintain_order=True).to_list() if g != ""]


def categories_of(frame: pl.DataFrame) -> list[str]:
    return frame["category"].unique(maintain_order=True).to_list()


def n_subtitle(table: pl.DataFrame, n_label: str | None = None) -> str:
    """The N line under the title, from the registry's ``n_label``.

    ``{n}`` is the denominator in Swedish format, ``{group}`` the group name: a label
    with ``{group}`` is repeated per group (``HRV: N = 296 · Ej HRV: N = 2 484``); a
    label without it on a grouped table gets the sum of the groups' denominators (the
    groups of diagram 17 partition its cases). A label without placeholders is printed
    as it is. Default: ``N = {n}``, or ``{group}: N = {n}`` for grouped tables.
    """
    frame = table_frame(table)
    groups = groups_of(frame)
    # the largest denominator per group, in Python: a figure's table has a few dozen rows
    largest: dict[str, int] = {}
    for g, d in zip(frame["group"].to_list(), frame["denominator"].to_list(), strict=True):
        if d is not None:
            largest[g] = max(largest.get(g, d), d)
    label = n_label or ("{group}: N = {n}" if groups else "N = {n}")
    if groups and "{group}" in label:
        return " · ".join(label.replace("{group}", g).replace("{n}", fmt_int(largest.get(g))) for g in groups)
    if groups:
        per_group = [largest[g] for g in groups if g in largest]
        n = sum(per_group) if per_group else None
    else:
        n = max(largest.values(), default=None)
    return label.replace("{n}", fmt_int(n))


def figure_caption(notes: Sequence[str] | str | None, multi: bool, suppressed: bool) -> str | None:
    if isinstance(notes, str):
        notes = [notes]
    # the caption starts at the panel, not the figure edge: wrap well inside the width
    lines = [wrap(n, CAPTION_WIDTH) for n in (notes or ()) if n]
    if multi:
        lines.append(MULTI_NOTE)
    if suppressed:
        lines.append(SUPPRESSED_NOTE)
    return "\n".join(lines) or None


def figure_height(rows: int, extra: float = 0.0) -> float:
    return round(min(11.0, max(2.8, 1.5 + 0.36 * rows + extra)), 2)


def wrap_parts(
    text: str, width: float = SUBTITLE_WIDTH, sep: str = " · ", measure: Callable[[str], float] = len
) -> str:
    """A line of parts joined by ``sep`` (the N per group) wrapped between parts, a line
    at most ``width`` by ``measure`` (characters, or a width set in a font)."""
    lines: list[str] = []
    for part in str(text).split(sep):
        if lines and measure(lines[-1] + sep + part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return "\n".join(lines)


def join_words(parts: list[str]) -> str:
    """Swedish enumeration: ``a, b och c``."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " och " + parts[-1]
