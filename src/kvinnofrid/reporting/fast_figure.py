"""The comparison reports' bars, drawn straight with matplotlib.

The unit and län reports draw 17 comparison figures each (~600 reports nationally).
Through plotnine (ggplot build, then PNG at 200 dpi) they were ≈ 10 of a report's 14 CPU
s on the demo; drawn here straight onto one matplotlib Figure (object API, no pyplot
state, its own Agg canvas) at ``UNIT_DPI``, ≈ 0.25 s each. It looks like
``reporting.figures.grouped_bar_figure``: the same house style (``reporting.figure_style``:
colours, font, wrapped labels, value labels, N line and notes), and a hidden cell shows
the mark of its reason (``reporting.hidden``); plotnine stays for the national figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib
import polars as pl

from kvinnofrid.reporting import hidden
from kvinnofrid.reporting.figure_style import (
    FONT,
    HIDDEN_COLOUR,
    PALETTE,
    TEXT_COLOUR,
    TITLE_WIDTH,
    WIDTH_IN,
    categories_of,
    figure_caption,
    figure_height,
    groups_of,
    n_subtitle,
    table_frame,
    wrap,
    wrap_parts,
)
from kvinnofrid.reporting.numfmt import NBSP, fmt_int, fmt_pct

__all__ = ["UNIT_DPI", "comparison_bar_figure", "save_fast_figure"]

UNIT_DPI = 150  # the reports show a figure at most 6.3 in wide: ≥ 165 px per inch on the page
_PT = 1 / 72  # inches per point
_PAD_IN = 0.12  # figure edge to text
_LEGEND_GAP_IN = 0.28  # panel's value axis to the legend
# Unhinted glyphs: ≈ 15 % less drawing time, no visible difference at UNIT_DPI; the same
# settings when the layout is measured and when the pixels are drawn.
_FAST_RC = {"font.family": FONT, "font.size": 9, "text.color": TEXT_COLOUR, "text.hinting": "none"}


class _Texts(NamedTuple):
    """The words around the panel: title, N line, notes and legend entries."""

    head: str
    sub: str
    caption: str | None
    names: list[str]  # the groups as the legend shows them (wrapped when long); [""]: no legend


class _Margins(NamedTuple):
    """Inches from the figure's edges to the panel, and the legend's height (0: none)."""

    left: float
    top: float
    bottom: float
    legend: float


def _text_block_in(text: str | None, size: float, spacing: float = 1.25) -> float:
    """Height in inches of a multi-line text of font ``size`` points."""
    return 0.0 if not text else (text.count("\n") + 1) * size * spacing * _PT


def comparison_bar_figure(
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
    threshold: int = 5,
    colours: Sequence[str] | None = None,
) -> Any:
    """``grouped_bar_figure`` drawn directly with matplotlib: a ``Figure`` on its own
    Agg canvas, written by ``save_fast_figure``. Rows of a category are side by side,
    the first group on top; a hidden cell keeps its slot, empty, marked right of the
    axis line, in its own group's row, so it never covers a label. The mark says why
    (kvinnofrid.reporting.hidden: ``<5`` or ``dold``) and the caption explains each mark
    used. ``colours``: one per group (an area keeps its colour in every report); default
    the palette in order."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    reasons = table["hidden_reason"] if "hidden_reason" in table.columns else pl.Series([None] * table.height)
    frame = table_frame(table).with_columns(reasons.alias("hidden_reason"))
    cats, groups = categories_of(frame), groups_of(frame) or [""]
    colours = list(colours or PALETTE)
    top = max(frame.filter(~pl.col("suppressed"))["share"].max() or 0.0, 0.01)
    texts = _Texts(
        wrap(title, TITLE_WIDTH),
        wrap_parts(_n_line_with_marks(table, frame, n_label, threshold)),
        _caption_with_marks(frame, notes, multi, threshold),
        _legend_names(groups),
    )
    height = figure_height(len(cats) * max(1, len(groups)) * 0.62, 0.6)
    with matplotlib.rc_context(_FAST_RC):
        fig = Figure(figsize=(WIDTH_IN, height), dpi=UNIT_DPI, facecolor="white")
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.3, 0.2, 0.6, 0.6))
        _comparison_bars(ax, frame, cats, groups, colours, threshold)
        _comparison_axes(ax, cats, top)
        margins = _margins(fig, ax, texts)
        ax.set_position(
            (
                margins.left / WIDTH_IN,
                margins.bottom / height,
                1 - (margins.left + 0.25) / WIDTH_IN,
                1 - (margins.top + margins.bottom) / height,
            )
        )
        _write_texts(fig, texts, height)
        if margins.legend:
            _legend(fig, ax, texts.names, colours, margins, height)
    return fig


def _caption_with_marks(
    frame: pl.DataFrame, notes: Sequence[str] | str | None, multi: bool, threshold: int
) -> str | None:
    """The notes, then one line per mark of a hidden cell used in the figure."""
    used = {hidden.reason_of(r) for r in frame.filter(pl.col("suppressed")).to_dicts()}
    listed = list(notes) if isinstance(notes, list | tuple) else [notes] if notes else []
    return figure_caption(listed + [hidden.note(r, threshold) for r in hidden.REASONS if r in used], multi, False)


def _legend_names(groups: Sequence[str]) -> list[str]:
    """One legend row holds about 80 characters of 9 pt text beside its keys: longer area
    names are wrapped (two lines) instead of running past the figure's edge."""
    return list(groups) if sum(len(g) + 6 for g in groups) <= 80 else [wrap(g, 24) for g in groups]


def _margins(fig: Any, ax: Any, texts: _Texts) -> _Margins:
    """The panel's margins from what stands around it: the widest category label on the
    left, title and N line above, the legend and notes below."""
    renderer = fig.canvas.get_renderer()
    label_in = max((t.get_window_extent(renderer).width for t in ax.get_yticklabels()), default=0.0) / UNIT_DPI
    top_in = _PAD_IN + _text_block_in(texts.head, 12) + 0.04 + _text_block_in(texts.sub, 10) + 0.12
    lines = max((n.count("\n") + 1 for n in texts.names), default=1)
    legend_in = 0.3 + 0.16 * (lines - 1) if texts.names != [""] else 0.0
    caption_in = _text_block_in(texts.caption, 8.5) + (0.1 if texts.caption else 0)
    bottom_in = _PAD_IN + caption_in + legend_in + _LEGEND_GAP_IN
    return _Margins(_PAD_IN + label_in + 0.08, top_in, bottom_in, legend_in)


def _write_texts(fig: Any, texts: _Texts, height: float) -> None:
    """Title and N line from the top left edge, the notes from the bottom left edge."""
    x0 = _PAD_IN / WIDTH_IN
    fig.text(x0, 1 - _PAD_IN / height, texts.head, size=12, weight="bold", va="top", linespacing=1.25)
    sub_y = 1 - (_PAD_IN + _text_block_in(texts.head, 12) + 0.04) / height
    fig.text(x0, sub_y, texts.sub, size=10, color="#444444", va="top", linespacing=1.25)
    if texts.caption:
        fig.text(x0, _PAD_IN / height, texts.caption, size=8.5, color="#444444", va="bottom", linespacing=1.25)


def _legend(fig: Any, ax: Any, names: Sequence[str], colours: Sequence[str], margins: _Margins, height: float) -> None:
    """One row of keys under the panel: centred under it as plotnine does, but moved left
    where long area names beside long category labels would push it past the edge."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, label=g) for g, c in zip(names, colours, strict=False)]
    panel = ax.get_position()
    y = (margins.bottom - _LEGEND_GAP_IN - margins.legend) / height
    legend = fig.legend(
        handles=handles,
        loc="lower center",
        ncols=len(names),
        frameon=False,
        fontsize=9,
        bbox_to_anchor=((panel.x0 + panel.x1) / 2, y),
        handlelength=1.0,
        handleheight=1.0,
        columnspacing=1.6,
        borderaxespad=0.0,
    )
    half = legend.get_window_extent(fig.canvas.get_renderer()).width / fig.bbox.width / 2
    x0 = _PAD_IN / WIDTH_IN
    legend.set_bbox_to_anchor((max(min((panel.x0 + panel.x1) / 2, 1 - x0 - half), 0.5), y), transform=fig.transFigure)


def _n_line_with_marks(table: pl.DataFrame, frame: pl.DataFrame, n_label: str | None, threshold: int) -> str:
    """The N line, a hidden N shown by its mark (``<5`` or ``dold``) instead of a dash."""
    line = n_subtitle(frame, n_label)
    if "denominator_reason" not in table.columns:
        return line
    parts = line.split(" · ")
    for k, g in enumerate(groups_of(frame)):
        rows = table.filter(pl.col("group") == g) if "group" in table.columns else table
        reason = rows["denominator_reason"].drop_nulls()
        if k < len(parts) and rows["denominator"].null_count() == rows.height and reason.len():
            parts[k] = parts[k].replace(fmt_int(None), hidden.mark(reason[0], threshold))
    return " · ".join(parts)


def _comparison_axes(ax: Any, cats: Sequence[str], top: float) -> None:
    """The house theme on the panel: value axis 0 … 1.16 × the largest share in Swedish
    percent, wrapped category labels (first on top), light grid on the value axis only."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    ax.set_xlim(0, top * 1.16)
    ax.set_ylim(len(cats) - 0.4, -0.6)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(lambda v, _pos: fmt_pct(v))
    ax.yaxis.set_major_locator(FixedLocator(range(len(cats))))
    ax.set_yticklabels([wrap(c) for c in cats])
    ax.tick_params(length=0, labelsize=9, colors=TEXT_COLOUR, pad=4)
    ax.grid(axis="x", color="#E3E3E3", linewidth=0.5)
    ax.set_axisbelow(True)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _comparison_bars(
    ax: Any, frame: pl.DataFrame, cats: Sequence[str], groups: Sequence[str], colours: Sequence[str], threshold: int
) -> None:
    """The bars, value labels and hidden marks: category i at y = i (top down), group j
    of n in its dodge slot (width 0.8 / n), as plotnine's position_dodge places them."""
    row_of = {c: i for i, c in enumerate(cats)}
    slot = 0.8 / len(groups)
    for j, group in enumerate(groups):
        rows = frame.filter(pl.col("group") == group) if group else frame
        ys, widths = [], []
        for r in rows.iter_rows(named=True):
            y = row_of[r["category"]] - 0.4 + slot * (j + 0.5)
            if r["suppressed"]:
                ax.text(
                    0,
                    y,
                    NBSP + hidden.mark(hidden.reason_of(r), threshold),
                    ha="left",
                    va="center",
                    size=8,
                    color=HIDDEN_COLOUR,
                    fontstyle="italic",
                )
            elif r["share"] is not None:
                ys.append(y)
                widths.append(r["share"])
                ax.text(r["share"], y, NBSP + fmt_pct(r["share"]), ha="left", va="center", size=7.5)
        ax.barh(ys, widths, height=slot * 0.78 / 0.8, color=colours[j % len(colours)], linewidth=0)


def save_fast_figure(fig: Any, png_path: Path | str) -> Path:
    """Write a ``comparison_bar_figure`` as PNG at ``UNIT_DPI``; byte-identical on reruns
    (Agg draws the same pixels from the same artists; no date or software tag). Written
    as RGB, not RGBA: the figure is opaque, and a quarter less data to compress."""
    from PIL import Image

    png = Path(png_path)
    png.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(_FAST_RC):
        fig.canvas.draw()
    pixels = Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    pixels.convert("RGB").save(png, format="png", dpi=(UNIT_DPI, UNIT_DPI), compress_level=3)
    return png
