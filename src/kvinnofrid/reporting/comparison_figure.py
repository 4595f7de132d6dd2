"""The comparison reports' bars, written as SVG.

Every unit and län report shows 17 comparison figures (about 600 reports nationally).
Drawn with matplotlib and rasterised to PNG they took three quarters of a report's CPU
time (≈ 0.22 s each: glyph rendering and PNG compression); written here as SVG they take
a few milliseconds, and stay sharp at any zoom. The layout is the one the matplotlib
version had: the house style (``reporting.figure_style``: colours, font, wrapped labels,
value labels, N line and notes) and ``reporting.figures.grouped_bar_figure``'s dodged
bars; a hidden cell keeps its slot, empty, with the mark of its reason
(``reporting.hidden``).

Words are SVG text in DejaVu Sans (it ships with matplotlib, which the figures already
need). Their widths are measured from the font's own advance widths (fontTools), so the
labels' margin and the legend are placed as the font will set them; Typst gets the font
files from ``figure_style.font_dir`` (``render``), a browser uses DejaVu Sans or a
font of the same width. ``layout`` gives the figure as plain shapes (testable: every text with its
box); ``to_svg`` writes them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape, quoteattr

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
    font_dir,
    groups_of,
    n_subtitle,
    table_frame,
    wrap,
    wrap_parts,
)
from kvinnofrid.reporting.numfmt import fmt_int, fmt_pct

__all__ = ["Figure", "Text", "comparison_bar_figure", "layout", "save_svg", "text_width", "to_svg"]

PT_PER_IN = 72.0
WIDTH = WIDTH_IN * PT_PER_IN
_PAD = 0.12 * PT_PER_IN  # figure edge to text
_LEGEND_GAP = 0.28 * PT_PER_IN  # the value axis' labels to the legend
_TICK_PAD = 4.0  # axis line to its labels
_LINE = 1.25  # line height in font sizes
_ASCENT, _DESCENT = 0.93, 0.24  # DejaVu Sans, in font sizes: baseline to top and bottom of a line
_CENTRE = 0.36  # baseline below the middle of one line of digits and lower-case letters
_SLOT_MIN = 14.0  # points: a bar's slot holds one line of its 8 pt mark, with air
# a line of words may fill the width inside the edges, less a twentieth: a browser
# without DejaVu Sans sets them in a font of about the same width
_TEXT_WIDTH = (WIDTH - 2 * _PAD) * 0.95
_KEY, _KEY_GAP, _KEY_SPACING = 9.0, 7.2, 14.4  # a legend key, key to name, entry to entry
_GRID = "#E3E3E3"
_MUTED = "#444444"
# A browser without DejaVu Sans takes Verdana (the same widths) or its own sans-serif.
_FAMILY = f"{FONT}, Verdana, sans-serif"


@functools.cache
def _advances(bold: bool) -> tuple[dict[int, int], int, int]:
    """The font's advance width per code point, the fallback width and units per em."""
    from fontTools.ttLib import TTFont

    font = TTFont(font_dir() / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"), lazy=True)
    metrics = font["hmtx"].metrics
    widths = {code: metrics[glyph][0] for code, glyph in font.getBestCmap().items()}
    return widths, metrics[".notdef"][0], font["head"].unitsPerEm


@functools.lru_cache(maxsize=8192)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points of one line of ``text`` at ``size`` points (no kerning: at most a
    few per cent wider than set, so a margin measured from it never clips). Cached: the
    same labels recur in every report of a batch."""
    widths, fallback, per_em = _advances(bold)
    return sum(widths.get(ord(c), fallback) for c in text) * size / per_em


@dataclass(frozen=True)
class Text:
    """Lines of text; ``y`` is the first line's baseline, ``anchor`` start|middle|end."""

    x: float
    y: float
    text: str
    size: float
    anchor: str = "start"
    colour: str = TEXT_COLOUR
    bold: bool = False
    italic: bool = False
    role: str = ""  # what it is: title, n, caption, category, value, mark, tick, legend

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1), y downward: the lines' extent as the font sets them."""
        width = max(text_width(line, self.size, self.bold) for line in self.lines)
        x0 = self.x - {"start": 0.0, "middle": width / 2, "end": width}[self.anchor]
        top = self.y - _ASCENT * self.size
        bottom = self.y + (len(self.lines) - 1) * _LINE * self.size + _DESCENT * self.size
        return (x0, top, x0 + width, bottom)


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    colour: str
    role: str = ""  # bar, key, background
    value: float | None = None  # a bar's share


@dataclass(frozen=True)
class Line:
    x: float
    y0: float
    y1: float
    colour: str = _GRID


@dataclass
class Figure:
    """The figure as shapes in points, y downward, ``width`` × ``height``."""

    width: float
    height: float
    title: str
    panel: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # x0, y0, x1, y1
    limit: float = 1.0  # the value at the panel's right edge
    items: list[Text | Rect | Line] = field(default_factory=list)

    def texts(self, role: str | None = None) -> list[Text]:
        return [i for i in self.items if isinstance(i, Text) and role in (None, i.role)]

    def rects(self, role: str | None = None) -> list[Rect]:
        return [i for i in self.items if isinstance(i, Rect) and role in (None, i.role)]


class _Words(NamedTuple):
    """The words around the panel: title, N line, notes and legend entries."""

    head: str
    sub: str
    caption: str | None
    names: list[str]  # the groups as the legend shows them (wrapped when long); [""]: no legend


def _block(text: str | None, size: float) -> float:
    """Height in points of a multi-line text of font ``size`` points."""
    return 0.0 if not text else (text.count("\n") + 1) * size * _LINE


def comparison_bar_figure(table: pl.DataFrame, title: str, **options: Any) -> str:
    """The comparison bars as an SVG document; ``options`` as ``layout`` takes them."""
    return to_svg(layout(table, title, **options))


def layout(
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
    threshold: int = 5,
    colours: Sequence[str] | None = None,
) -> Figure:
    """``grouped_bar_figure``'s comparison bars as shapes: rows of a category side by
    side, the first group on top; a hidden cell keeps its slot, empty, marked right of
    the axis line, so it never covers a label. The mark says why (``<5`` or ``dold``) and
    the caption explains each mark used. ``colours``: one per group (an area keeps its
    colour in every report); default the palette in order."""
    reasons = table["hidden_reason"] if "hidden_reason" in table.columns else pl.Series([None] * table.height)
    frame = table_frame(table).with_columns(reasons.alias("hidden_reason"))
    cats, groups = categories_of(frame), groups_of(frame) or [""]
    words = _Words(
        wrap(title, TITLE_WIDTH),
        wrap_parts(
            _n_line_with_marks(table, frame, n_label, threshold),
            _TEXT_WIDTH,
            measure=functools.partial(text_width, size=10),
        ),
        _caption_with_marks(frame, notes, multi, threshold),
        _legend_names(groups),
    )
    labels = [wrap(c) for c in cats]
    label_width = max((text_width(line, 9) for c in labels for line in c.split("\n")), default=0.0)
    legend = 0.3 * PT_PER_IN + 0.16 * PT_PER_IN * (max(n.count("\n") for n in words.names)) if groups != [""] else 0
    caption = _block(words.caption, 8.5) + (0.1 * PT_PER_IN if words.caption else 0)
    top = _PAD + _block(words.head, 12) + 0.04 * PT_PER_IN + _block(words.sub, 10) + 0.12 * PT_PER_IN
    below = _PAD + caption + legend + _LEGEND_GAP
    # the house height, but never so low that long notes squeeze a bar slot below one
    # line of its mark, or a category below its label's lines
    row = max(_SLOT_MIN * len(groups) / 0.8, max(c.count("\n") + 1 for c in labels) * _LINE * 9 + 4)
    height = max(figure_height(len(cats) * max(1, len(groups)) * 0.62, 0.6) * PT_PER_IN, top + below + row * len(cats))
    bottom = height - below
    fig = Figure(WIDTH, height, title, (_PAD + label_width + 0.08 * PT_PER_IN, top, WIDTH - 0.25 * PT_PER_IN, bottom))
    fig.items.append(Rect(0, 0, WIDTH, height, "#FFFFFF", "background"))
    shown = frame.filter(~pl.col("suppressed"))["share"]
    _value_axis(fig, max(shown.max() or 0.0, 0.01) * 1.16)
    _categories(fig, labels)
    _bars(fig, frame, len(cats), groups, list(colours or PALETTE), threshold)
    _words(fig, words)
    if groups != [""]:
        _legend(fig, words.names, list(colours or PALETTE), height - _PAD - caption - legend, legend)
    return fig


def _ticks(limit: float, bins: int = 6, steps: Sequence[float] = (1, 2, 2.5, 5, 10)) -> list[float]:
    """Round breaks from 0 to at most ``limit``: the smallest step of ``steps`` × 10^k
    that needs at most ``bins`` intervals (matplotlib's MaxNLocator with these steps)."""
    scale = 10 ** math.floor(math.log10(limit / bins))
    step = next(s * scale for s in steps if s * scale * bins >= limit - 1e-12)
    return [k * step for k in range(int(limit / step + 1e-9) + 1)]


def _x(fig: Figure, value: float) -> float:
    x0, _, x1, _ = fig.panel
    return x0 + value / fig.limit * (x1 - x0)


def _y(fig: Figure, row: float, rows: int) -> float:
    """Category ``row`` at its centre: rows from -0.6 (top) to rows - 0.4 (bottom)."""
    _, y0, _, y1 = fig.panel
    return y0 + (row + 0.6) * (y1 - y0) / rows


def _value_axis(fig: Figure, limit: float) -> None:
    """Light grid lines behind the bars and Swedish percent labels under the panel."""
    fig.limit = limit
    _, y0, _, y1 = fig.panel
    for value in _ticks(limit):
        x = _x(fig, value)
        fig.items.append(Line(x, y0, y1))
        fig.items.append(Text(x, y1 + _TICK_PAD + _ASCENT * 9, fmt_pct(value), 9, "middle", role="tick"))


def _categories(fig: Figure, labels: Sequence[str]) -> None:
    """The wrapped category labels right-aligned left of the panel, first on top."""
    for i, label in enumerate(labels):
        lines = label.count("\n") + 1
        baseline = _y(fig, i, len(labels)) + _CENTRE * 9 - (lines - 1) * _LINE * 9 / 2
        fig.items.append(Text(fig.panel[0] - _TICK_PAD, baseline, label, 9, "end", role="category"))


def _bars(fig: Figure, frame: pl.DataFrame, rows: int, groups: Sequence[str], colours: Sequence[str], threshold: int):
    """The bars, value labels and hidden marks: category i centred at i, group j of n in
    its dodge slot (width 0.8 / n), as plotnine's position_dodge places them."""
    row_of = {c: i for i, c in enumerate(categories_of(frame))}
    slot = 0.8 / len(groups)
    space = text_width(" ", 8)
    for j, group in enumerate(groups):
        rows_of_group = frame.filter(pl.col("group") == group) if group else frame
        for r in rows_of_group.iter_rows(named=True):
            centre = _y(fig, row_of[r["category"]] - 0.4 + slot * (j + 0.5), rows)
            if r["suppressed"]:
                mark = hidden.mark(hidden.reason_of(r), threshold)
                x = fig.panel[0] + space
                fig.items.append(Text(x, centre + _CENTRE * 8, mark, 8, colour=HIDDEN_COLOUR, italic=True, role="mark"))
            elif r["share"] is not None:
                thick = _y(fig, slot * 0.78 / 0.8, rows) - _y(fig, 0, rows)
                right, colour = _x(fig, r["share"]), colours[j % len(colours)]
                fig.items.append(
                    Rect(fig.panel[0], centre - thick / 2, right - fig.panel[0], thick, colour, "bar", r["share"])
                )
                fig.items.append(Text(right + space, centre + _CENTRE * 7.5, fmt_pct(r["share"]), 7.5, role="value"))


def _words(fig: Figure, words: _Words) -> None:
    """Title and N line from the top left edge, the notes from the bottom left edge."""
    fig.items.append(Text(_PAD, _PAD + _ASCENT * 12, words.head, 12, bold=True, role="title"))
    sub_top = _PAD + _block(words.head, 12) + 0.04 * PT_PER_IN
    fig.items.append(Text(_PAD, sub_top + _ASCENT * 10, words.sub, 10, colour=_MUTED, role="n"))
    if words.caption:
        top = fig.height - _PAD - _block(words.caption, 8.5)
        fig.items.append(Text(_PAD, top + _ASCENT * 8.5, words.caption, 8.5, colour=_MUTED, role="caption"))


def _legend(fig: Figure, names: Sequence[str], colours: Sequence[str], top: float, height: float) -> None:
    """One row of keys under the panel: centred under it as plotnine does, but moved left
    where long area names beside long category labels would push it past the edge."""
    widths, total = _legend_width(names)
    centre = max(min((fig.panel[0] + fig.panel[2]) / 2, fig.width - _PAD - total / 2), fig.width / 2)
    x, middle = centre - total / 2, top + height / 2
    for name, colour, width in zip(names, colours, widths, strict=False):
        fig.items.append(Rect(x, middle - _KEY / 2, _KEY, _KEY, colour, "key"))
        lines = name.count("\n") + 1
        baseline = middle + _CENTRE * 9 - (lines - 1) * _LINE * 9 / 2
        fig.items.append(Text(x + _KEY + _KEY_GAP, baseline, name, 9, role="legend"))
        x += width + _KEY_SPACING


def _caption_with_marks(
    frame: pl.DataFrame, notes: Sequence[str] | str | None, multi: bool, threshold: int
) -> str | None:
    """The notes, then one line per mark of a hidden cell used in the figure."""
    used = {hidden.reason_of(r) for r in frame.filter(pl.col("suppressed")).to_dicts()}
    listed = list(notes) if isinstance(notes, list | tuple) else [notes] if notes else []
    return figure_caption(listed + [hidden.note(r, threshold) for r in hidden.REASONS if r in used], multi, False)


def _legend_names(groups: Sequence[str]) -> list[str]:
    """The legend is one row of keys: names that would run past the figure's edges in
    one row are wrapped (about 24 characters a line) instead."""
    return list(groups) if _legend_width(groups)[1] <= _TEXT_WIDTH else [wrap(g, 24) for g in groups]


def _legend_width(names: Sequence[str]) -> tuple[list[float], float]:
    """Each legend entry's width (key, gap, its widest line) and the row's."""
    widths = [_KEY + _KEY_GAP + max(text_width(line, 9) for line in n.split("\n")) for n in names]
    return widths, sum(widths) + _KEY_SPACING * (len(names) - 1)


def _n_line_with_marks(table: pl.DataFrame, frame: pl.DataFrame, n_label: str | None, threshold: int) -> str:
    """The N line, a hidden N shown by its mark (``<5`` or ``dold``) instead of a dash."""
    line = n_subtitle(frame, n_label)
    if "denominator_reason" not in table.columns:
        return line
    parts = line.split(" · ")
    shown: set[str] = set()  # groups with a denominator shown in some row
    reasons: dict[str, str] = {}  # a group's first reason for a hidden denominator
    groups = table["group"].to_list() if "group" in table.columns else [""] * table.height
    for g, d, r in zip(groups, table["denominator"].to_list(), table["denominator_reason"].to_list(), strict=True):
        if d is not None:
            shown.add(g)
        elif r is not None:
            reasons.setdefault(g, r)
    for k, g in enumerate(groups_of(frame)):
        if k < len(parts) and g not in shown and g in reasons:
            parts[k] = parts[k].replace(fmt_int(None), hidden.mark(reasons[g], threshold))
    return " · ".join(parts)


# --------------------------------------------------------------------------- SVG


def _n(v: float) -> str:
    """A coordinate with two decimals, no trailing zeros: the same bytes on every run."""
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _svg_text(t: Text) -> str:
    style = (' font-weight="bold"' if t.bold else "") + (' font-style="italic"' if t.italic else "")
    anchor = f' text-anchor="{t.anchor}"' if t.anchor != "start" else ""
    head = f'<text x="{_n(t.x)}" y="{_n(t.y)}" font-size="{_n(t.size)}" fill="{t.colour}"{anchor}{style}>'
    if len(t.lines) == 1:
        return head + escape(t.text) + "</text>"
    first, *rest = t.lines
    spans = "".join(f'<tspan x="{_n(t.x)}" dy="{_n(_LINE * t.size)}">{escape(line)}</tspan>' for line in rest)
    return head + escape(first) + spans + "</text>"


def _svg_item(item: Text | Rect | Line) -> str:
    if isinstance(item, Text):
        return _svg_text(item)
    if isinstance(item, Line):
        return f'<path d="M{_n(item.x)} {_n(item.y0)}V{_n(item.y1)}" stroke="{item.colour}" stroke-width="0.5"/>'
    return (
        f'<rect x="{_n(item.x)}" y="{_n(item.y)}" width="{_n(item.width)}" height="{_n(item.height)}" '
        f'fill="{item.colour}"/>'
    )


def to_svg(fig: Figure) -> str:
    """The figure as a standalone SVG document sized in points, its title in ``<title>``."""
    w, h = _n(fig.width), _n(fig.height)
    body = "\n".join(_svg_item(i) for i in fig.items)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" viewBox="0 0 {w} {h}" '
        f"font-family={quoteattr(_FAMILY)}>\n<title>{escape(fig.title)}</title>\n{body}\n</svg>\n"
    )


def save_svg(svg: str, path: Path | str) -> Path:
    """Write the SVG document (UTF-8): the same bytes from the same table."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(svg.encode("utf-8"))
    return out
