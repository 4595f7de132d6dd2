"""The report's figures: one house style, one function per figure kind.

(The unit reports' comparison bars have a faster twin, ``comparison_bar_figure``,
drawn with matplotlib alone; see its section below.)

Every function takes a diagram table with the columns of the output contract
(``group, category, n, denominator, share, ci_low, ci_high, mean, suppressed``;
docs/output-contract.md), rows in the order the figure shows them, plus the title, the N label
and notes, and returns a plotnine ``ggplot``. ``save_figure`` writes it as PNG and SVG
with a fixed size and resolution, byte-identical on every rerun.

Figure kinds (the registry's ``kind``):

* ``bar``          horizontal bars of shares, ``94 %`` on each bar (2–9, 11–15, 18–20, 26–27)
* ``grouped_bar``  the same per group, side by side (21–25)
* ``stacked_bar``  with groups: 100 % bars, one per group (17, group = duration bin);
                   without groups: diagram 1's phases, registered vs not registered (counts)
* ``histogram``    vertical bars of counts over ordered bins, ``1 023`` on each (16)
* ``mean_bar``     horizontal bars of means, ``2,4`` on each (10)
* ``phases``       diagram 1 explicitly (same as ``stacked_bar`` without groups)

Suppressed rows (``suppressed`` true, ``n`` empty) are never drawn as zero: the bar is
left out, the gap is marked ``dold*`` and the caption explains the star.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import plotnine as p9
import polars as pl

from kvinnofrid.reporting import hidden
from kvinnofrid.reporting.markdown import shown_labels
from kvinnofrid.reporting.numfmt import NBSP, fmt_dec, fmt_int, fmt_num, fmt_pct
from kvinnofrid.spec.diagrams import load_registry

__all__ = [
    "KINDS",
    "MULTI_NOTE",
    "PALETTE",
    "SUPPRESSED_NOTE",
    "alt_text",
    "bar_figure",
    "comparison_bar_figure",
    "draw_diagram",
    "grouped_bar_figure",
    "histogram_figure",
    "house_theme",
    "make_figure",
    "mean_bar_figure",
    "n_subtitle",
    "phases_figure",
    "save_fast_figure",
    "save_figure",
    "stacked_bar_figure",
]

# Okabe–Ito: distinguishable with the common colour-vision deficiencies and in greyscale
# order; blue first so single-series figures look like SKR's blue bars.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7", "#F0E442", "#000000"]
HIGHLIGHT = "#E69F00"
NOT_REGISTERED = "#C8C8C8"
TEXT_COLOUR = "#222222"
HIDDEN_COLOUR = "#555555"  # the "dold" mark: readable (contrast 7:1 on white), apart from values
FONT = "DejaVu Sans"  # ships with matplotlib: å, ä, ö, NBSP and the minus sign

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


# --------------------------------------------------------------------------- style


def house_theme(height_in: float) -> p9.theme:
    """The one theme: white, light grid on the value axis only, legible Swedish text."""
    return p9.theme_minimal(base_size=10, base_family=FONT) + p9.theme(
        figure_size=(WIDTH_IN, height_in),
        dpi=DPI,
        plot_title=p9.element_text(size=12, weight="bold", ha="left", color=TEXT_COLOUR),
        plot_subtitle=p9.element_text(size=10, ha="left", color="#444444"),
        plot_caption=p9.element_text(size=8.5, ha="left", color="#444444"),
        axis_text=p9.element_text(size=9, color=TEXT_COLOUR),
        axis_title=p9.element_blank(),
        panel_grid_minor=p9.element_blank(),
        panel_grid_major=p9.element_line(color="#E3E3E3", size=0.5),
        legend_position="bottom",
        legend_title=p9.element_blank(),
        legend_text=p9.element_text(size=9),
        plot_background=p9.element_rect(fill="white", color="white"),
        # title, N line and notes start at the figure's edge, not the panel's: long
        # category labels (the comparison reports) then cannot push them off the right
        plot_title_position="plot",
        plot_caption_position="plot",
    )


def _wrap(text: str, width: int = LABEL_WIDTH) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def _pct_axis(breaks: Sequence[float]) -> list[str]:
    return [fmt_pct(b) for b in breaks]


def _int_axis(breaks: Sequence[float]) -> list[str]:
    return [fmt_int(b) for b in breaks]


def _dec_axis(breaks: Sequence[float]) -> list[str]:
    return [fmt_num(b) for b in breaks]


# --------------------------------------------------------------------------- table helpers


def _frame(table: pl.DataFrame) -> pl.DataFrame:
    """The table with every contract column present and typed loosely."""
    missing = [c for c in ("category",) if c not in table.columns]
    if missing:
        raise ValueError(f"diagramtabellen saknar kolumnen {missing[0]!r}")
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


def _groups(frame: pl.DataFrame) -> list[str]:
    return [g for g in frame["group"].unique(maintain_order=True).to_list() if g != ""]


def _categories(frame: pl.DataFrame) -> list[str]:
    return frame["category"].unique(maintain_order=True).to_list()


def n_subtitle(table: pl.DataFrame, n_label: str | None = None) -> str:
    """The N line under the title, from the registry's ``n_label``.

    ``{n}`` is the denominator in Swedish format, ``{group}`` the group name: a label
    with ``{group}`` is repeated per group (``HRV: N = 296 · Ej HRV: N = 2 484``); a
    label without it on a grouped table gets the sum of the groups' denominators (the
    groups of diagram 17 partition its cases). A label without placeholders is printed
    as it is. Default: ``N = {n}``, or ``{group}: N = {n}`` for grouped tables.
    """
    frame = _frame(table)
    groups = _groups(frame)

    def denominator(rows: pl.DataFrame) -> int | None:
        dens = rows["denominator"].drop_nulls()
        return int(dens.max()) if len(dens) else None

    label = n_label or ("{group}: N = {n}" if groups else "N = {n}")
    if groups and "{group}" in label:
        return " · ".join(
            label.replace("{group}", g).replace("{n}", fmt_int(denominator(frame.filter(pl.col("group") == g))))
            for g in groups
        )
    if groups:
        per_group = [denominator(frame.filter(pl.col("group") == g)) for g in groups]
        n = sum(d for d in per_group if d is not None) if any(d is not None for d in per_group) else None
    else:
        n = denominator(frame)
    return label.replace("{n}", fmt_int(n))


def _caption(notes: Sequence[str] | str | None, multi: bool, suppressed: bool) -> str | None:
    if isinstance(notes, str):
        notes = [notes]
    # the caption starts at the panel, not the figure edge: wrap well inside the width
    lines = [_wrap(n, CAPTION_WIDTH) for n in (notes or ()) if n]
    if multi:
        lines.append(MULTI_NOTE)
    if suppressed:
        lines.append(SUPPRESSED_NOTE)
    return "\n".join(lines) or None


def _height(rows: int, extra: float = 0.0) -> float:
    return round(min(11.0, max(2.8, 1.5 + 0.36 * rows + extra)), 2)


def _wrap_parts(text: str, width: int = SUBTITLE_WIDTH, sep: str = " · ") -> str:
    """A line of parts joined by ``sep`` (the N per group) wrapped between parts."""
    lines: list[str] = []
    for part in str(text).split(sep):
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return "\n".join(lines)


def _labs(title: str, subtitle: str, caption: str | None) -> p9.labs:
    return p9.labs(title=_wrap(title, TITLE_WIDTH), subtitle=_wrap_parts(subtitle), caption=caption, x="", y="")


def _pd(frame: pl.DataFrame) -> pd.DataFrame:
    return frame.to_pandas()


def assemble(
    data: pd.DataFrame,
    mapping: p9.aes,
    layers: Sequence[Any],
    *,
    categories: Sequence[str],
    value_labels: Any,
    value_max: float,
    title: str,
    subtitle: str,
    caption: str | None,
    height: float,
    horizontal: bool = True,
) -> p9.ggplot:
    """The one plot assembly of every figure: the kind's geoms and fill scale
    (``layers``) on the category axis (``categories`` in drawing order) and the value
    axis from 0 to ``value_max`` (labels ``value_labels``), horizontal bars (flipped)
    or vertical ones, then title, N subtitle, notes and the house theme with the grid
    on the value axis only."""
    plot = p9.ggplot(data, mapping)
    for layer in layers:
        plot += layer
    plot += p9.scale_x_discrete(limits=list(categories))
    plot += p9.scale_y_continuous(labels=value_labels, limits=(0, value_max), expand=(0, 0))
    if horizontal:
        plot += p9.coord_flip()
    return (
        plot
        + _labs(title, subtitle, caption)
        + house_theme(height)
        + p9.theme(**{"panel_grid_major_y" if horizontal else "panel_grid_major_x": p9.element_blank()})
    )


# --------------------------------------------------------------------------- figure kinds


def bar_figure(
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
) -> p9.ggplot:
    """Horizontal bars of shares, first category on top, ``94 %`` beside each bar."""
    frame = _frame(table)
    cats = _categories(frame)
    wrapped = [_wrap(c) for c in cats]
    data = frame.with_columns(
        pl.col("category").replace_strict(cats, wrapped).alias("label_cat"),
        pl.col("share").map_elements(fmt_pct, return_dtype=pl.String).alias("label"),
    )
    shown = data.filter(~pl.col("suppressed") & pl.col("share").is_not_null())
    hidden = data.filter(pl.col("suppressed"))
    top = max(shown["share"].max() or 0.0, 0.01)
    plot = assemble(
        _pd(shown),
        p9.aes("label_cat", "share"),
        [
            p9.geom_col(fill=PALETTE[0], width=0.72),
            p9.geom_text(p9.aes(label="label"), ha="left", nudge_y=top * 0.015, size=8.5, color=TEXT_COLOUR),
        ],
        categories=list(reversed(wrapped)),
        value_labels=_pct_axis,
        value_max=top * 1.14,
        title=title,
        subtitle=n_subtitle(frame, n_label),
        caption=_caption(notes, multi, hidden.height > 0),
        height=_height(len(cats), 0.3 * multi),
    )
    if hidden.height:
        plot += p9.geom_text(
            p9.aes("label_cat", 0),
            data=_pd(hidden.with_columns(pl.lit(NBSP + SUPPRESSED_LABEL).alias("label"))),
            label=NBSP + SUPPRESSED_LABEL,
            ha="left",
            size=8.5,
            color=HIDDEN_COLOUR,
            fontstyle="italic",
        )
    return plot


def _dodged_grid(data: pl.DataFrame, groups: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Every (category, group) keeps its slot: a hidden row is a bar of height 0, so
    the dodge leaves its place empty and the mark sits there, in its own group's row,
    right of the axis line: it cannot cover a label or another group's bar. Returns the
    grid, its value labels and its "dold" marks."""
    grid = _pd(
        data.with_columns(
            pl.when(pl.col("suppressed")).then(0.0).otherwise(pl.col("share").fill_null(0.0)).alias("share"),
            pl.when(pl.col("suppressed"))
            .then(pl.lit(NBSP + SUPPRESSED_LABEL))
            .otherwise(pl.col("label"))
            .alias("label"),
        )
    )
    # coord_flip draws the first dodge level at the bottom: reverse the levels so the
    # first group is the upper bar, and reverse the legend back.
    grid["group"] = pd.Categorical(grid["group"], categories=list(reversed(groups)))
    shown, marks = grid.copy(), grid.copy()
    shown.loc[shown["suppressed"], "label"] = ""
    marks.loc[~marks["suppressed"], "label"] = ""
    return grid, shown, marks


def grouped_bar_figure(
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
) -> p9.ggplot:
    """Horizontal bars of shares per group side by side (HRV/Ej HRV, Kvinna/Man)."""
    frame = _frame(table)
    cats = _categories(frame)
    groups = _groups(frame) or [""]
    wrapped = [_wrap(c) for c in cats]
    colours = dict(zip(groups, PALETTE, strict=False))
    data = frame.with_columns(
        pl.col("category").replace_strict(cats, wrapped).alias("label_cat"),
        pl.col("share").map_elements(lambda s: NBSP + fmt_pct(s), return_dtype=pl.String).alias("label"),
    )
    hidden = data.filter(pl.col("suppressed"))
    top = max(data.filter(~pl.col("suppressed"))["share"].max() or 0.0, 0.01)
    grid, shown, marks = _dodged_grid(data, groups)
    dodge = p9.position_dodge(width=0.8)
    return assemble(
        grid,
        p9.aes("label_cat", "share", fill="group"),
        [
            p9.geom_col(position=dodge, width=0.78),
            p9.geom_text(
                p9.aes(label="label", group="group"), data=shown, position=dodge, ha="left", size=7.5, color=TEXT_COLOUR
            ),
            p9.geom_text(
                p9.aes(label="label", group="group"),
                data=marks,
                position=dodge,
                ha="left",
                size=8,
                color=HIDDEN_COLOUR,
                fontstyle="italic",
            ),
            p9.scale_fill_manual(values=colours, breaks=groups),
        ],
        categories=list(reversed(wrapped)),
        value_labels=_pct_axis,
        value_max=top * 1.16,
        title=title,
        subtitle=n_subtitle(frame, n_label),
        caption=_caption(notes, multi, hidden.height > 0),
        height=_height(len(cats) * max(1, len(groups)) * 0.62, 0.6),
    )


def stacked_bar_figure(
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
) -> p9.ggplot:
    """100 % bars, one per group (diagram 17: duration bin), segments = categories.

    A table without groups is diagram 1's phases: see ``phases_figure``.
    """
    frame = _frame(table)
    groups = _groups(frame)
    if not groups:
        return phases_figure(table, title, n_label, notes, multi)
    cats = _categories(frame)
    colours = dict(zip(cats, PALETTE, strict=False))
    data = frame.with_columns(
        pl.col("share").map_elements(lambda s: fmt_pct(s) if s >= 0.04 else "", return_dtype=pl.String).alias("label"),
    )
    shown = _pd(data.filter(~pl.col("suppressed") & pl.col("share").is_not_null()))
    hidden = data.filter(pl.col("suppressed"))
    # position_stack puts the first level at the far end; reverse so the first
    # category starts at 0 %, and keep the legend in table order.
    shown["category"] = pd.Categorical(shown["category"], categories=list(reversed(cats)))
    wrapped_cats = {c: _wrap(c, LEGEND_WIDTH) for c in cats}
    plot = assemble(
        shown,
        p9.aes("group", "share", fill="category"),
        [
            p9.geom_col(position="stack", width=0.7),
            p9.geom_text(p9.aes(label="label"), position=p9.position_stack(vjust=0.5), size=8.5, color="white"),
            p9.scale_fill_manual(values=colours, breaks=cats, labels=[wrapped_cats[c] for c in cats]),
        ],
        categories=list(reversed(groups)),
        value_labels=_pct_axis,
        value_max=1.0001,
        title=title,
        subtitle=n_subtitle(frame, n_label),
        caption=_caption(notes, multi, hidden.height > 0),
        height=_height(len(groups), 0.8 + 0.28 * len(cats)),
    )
    # one legend entry per line: side by side, long labels ran off the figure's edge
    return plot + p9.guides(fill=p9.guide_legend(ncol=1))


def phases_figure(
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
) -> p9.ggplot:
    """Diagram 1: per phase, cases registered (n) and not registered (denominator − n)."""
    frame = _frame(table)
    cats = _categories(frame)
    wrapped = [_wrap(c) for c in cats]
    registered = "Registrerat"
    not_registered = "Ej registrerat"
    base = frame.filter(~pl.col("suppressed")).with_columns(
        pl.col("category").replace_strict(cats, wrapped).alias("label_cat")
    )
    long = pl.concat(
        [
            base.select("label_cat", pl.lit(registered).alias("status"), pl.col("n").cast(pl.Int64).alias("count")),
            base.select(
                "label_cat",
                pl.lit(not_registered).alias("status"),
                (pl.col("denominator") - pl.col("n")).cast(pl.Int64).alias("count"),
            ),
        ]
    ).with_columns(
        pl.when(pl.col("count") > 0)
        .then(pl.col("count").map_elements(fmt_int, return_dtype=pl.String))
        .otherwise(pl.lit(""))
        .alias("label")
    )
    shown = _pd(long)
    shown["status"] = pd.Categorical(shown["status"], categories=[not_registered, registered])
    top = max(float(base["denominator"].max() or 1), 1.0)
    hidden = frame.filter(pl.col("suppressed")).height > 0
    return assemble(
        shown,
        p9.aes("label_cat", "count", fill="status"),
        [
            p9.geom_col(position="stack", width=0.7),
            p9.geom_text(p9.aes(label="label"), position=p9.position_stack(vjust=0.5), size=8, color=TEXT_COLOUR),
            p9.scale_fill_manual(
                values={registered: PALETTE[3], not_registered: NOT_REGISTERED}, breaks=[registered, not_registered]
            ),
        ],
        categories=list(reversed(wrapped)),
        value_labels=_int_axis,
        value_max=top * 1.02,
        title=title,
        subtitle=n_subtitle(frame, n_label or "N = {n} ärenden"),
        caption=_caption(notes, multi, hidden),
        height=_height(len(cats), 0.5),
    )


def histogram_figure(
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
) -> p9.ggplot:
    """Vertical bars of counts over ordered bins (diagram 16), ``1 023`` above each."""
    frame = _frame(table)
    cats = _categories(frame)
    data = frame.with_columns(
        pl.col("n").map_elements(fmt_int, return_dtype=pl.String).alias("label"),
    )
    shown = data.filter(~pl.col("suppressed") & pl.col("n").is_not_null())
    hidden = data.filter(pl.col("suppressed"))
    top = max(float(shown["n"].max() or 1), 1.0)
    plot = assemble(
        _pd(shown),
        p9.aes("category", "n"),
        [
            p9.geom_col(fill=PALETTE[0], width=0.85),
            p9.geom_text(p9.aes(label="label"), va="bottom", nudge_y=top * 0.012, size=8.5, color=TEXT_COLOUR),
        ],
        categories=cats,
        value_labels=_int_axis,
        value_max=top * 1.1,
        title=title,
        subtitle=n_subtitle(frame, n_label),
        caption=_caption(notes, multi, hidden.height > 0),
        height=4.2,
        horizontal=False,
    )
    if hidden.height:
        plot += p9.annotate(
            "text", x=hidden["category"].to_list(), y=top * 0.02, label=SUPPRESSED_LABEL, va="bottom", size=8.5
        )
    return plot


def mean_bar_figure(
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
    highlight: str = "Genomsnitt",
) -> p9.ggplot:
    """Horizontal bars of means (diagram 10), ``2,4`` beside each; ``highlight`` in orange."""
    frame = _frame(table)
    cats = _categories(frame)
    # each category's own N under its label: the means rest on very different numbers
    counts = dict(zip(frame["category"].to_list(), frame["n"].to_list()))
    wrapped = [_wrap(c) + (f"\n(N = {fmt_int(counts[c])})" if counts.get(c) is not None else "") for c in cats]
    data = frame.with_columns(
        pl.col("category").replace_strict(cats, wrapped).alias("label_cat"),
        pl.col("mean").map_elements(fmt_dec, return_dtype=pl.String).alias("label"),
        (pl.col("category") == highlight).alias("is_highlight"),
    )
    shown = data.filter(~pl.col("suppressed") & pl.col("mean").is_not_null())
    hidden = data.filter(pl.col("suppressed"))
    top = max(float(shown["mean"].max() or 1), 0.1)
    subtitle = n_subtitle(frame, n_label) if n_label else "Medelvärde bland ärenden med minst en insats"
    plot = assemble(
        _pd(shown),
        p9.aes("label_cat", "mean", fill="is_highlight"),
        [
            p9.geom_col(width=0.72, show_legend=False),
            p9.geom_text(p9.aes(label="label"), ha="left", nudge_y=top * 0.015, size=8.5, color=TEXT_COLOUR),
            p9.scale_fill_manual(values={True: HIGHLIGHT, False: PALETTE[0]}),
        ],
        categories=list(reversed(wrapped)),
        value_labels=_dec_axis,
        value_max=top * 1.12,
        title=title,
        subtitle=subtitle,
        caption=_caption(notes, multi, hidden.height > 0),
        height=_height(len(cats), 0.22 * len(cats)),
    )
    if hidden.height:
        plot += p9.annotate(
            "text",
            x=[wrapped[cats.index(c)] for c in hidden["category"].to_list()],
            y=0,
            label=NBSP + SUPPRESSED_LABEL,
            ha="left",
            size=8.5,
            color=HIDDEN_COLOUR,
            fontstyle="italic",
        )
    return plot


_BY_KIND = {
    "bar": bar_figure,
    "grouped_bar": grouped_bar_figure,
    "stacked_bar": stacked_bar_figure,
    "histogram": histogram_figure,
    "mean_bar": mean_bar_figure,
    "phases": phases_figure,
}


def make_figure(
    kind: str,
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
) -> p9.ggplot:
    """The figure of the registry's ``kind`` (one of ``KINDS``)."""
    try:
        draw = _BY_KIND[kind]
    except KeyError:
        raise ValueError(f"okänd diagramtyp {kind!r}; tillåtna: {', '.join(KINDS)}") from None
    return draw(table, title, n_label, notes, multi)


def draw_diagram(diagram: object, table: pl.DataFrame) -> p9.ggplot:
    """The figure of a registry entry (``kvinnofrid.spec.diagrams.Diagram``: figure, title,
    n_label, notes, multi) drawn from its table, with the labels a reader sees."""
    return make_figure(
        diagram.figure,
        shown_labels(table),
        diagram.title,
        getattr(diagram, "n_label", None),
        list(getattr(diagram, "notes", ()) or ()),
        bool(getattr(diagram, "multi", False)),
    )


# --------------------------------------------------------------------------- output


def save_figure(plot: p9.ggplot, png_path: Path | str, svg_path: Path | str | None = None) -> list[Path]:
    """Write the figure as PNG (``DPI``) and SVG; both byte-identical on reruns.

    The SVG keeps its text as text (``svg.fonttype: none``) so it is searchable and
    accessible, uses a fixed id salt, and carries no date.
    """
    written = []
    figure = plot.draw()
    try:
        with matplotlib.rc_context({"svg.hashsalt": "kvinnofrid", "svg.fonttype": "none"}):
            png = Path(png_path)
            png.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
            written.append(png)
            if svg_path is not None:
                svg = Path(svg_path)
                svg.parent.mkdir(parents=True, exist_ok=True)
                figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": "kvinnofrid"})
                written.append(svg)
    finally:
        plt.close(figure)
    return written


# --------------------------------------------------------------------------- alt text


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " och " + parts[-1]


def _alt_value(r: dict[str, Any], measure: str) -> str:
    """One category as the alt text says it: "Kvinna 94 % (2 858 ärenden)"."""
    if r["suppressed"]:
        return f"{r['category']} dold"
    count = f"({fmt_int(r['n'])} ärenden)" if r["n"] is not None else ""
    if measure == "mean":
        return f"{r['category']} {fmt_dec(r['mean'])} {count}".strip()
    if measure == "share":
        return f"{r['category']} {fmt_pct(r['share'])} {count}".strip()
    return f"{r['category']} {count}".strip()


def _alt_items(rows: pl.DataFrame, measure: str, hidden: int) -> str:
    """Every category in the figure's order. Where values are hidden, a 0 % share is
    left out too (as in the figure, nothing is said about a hidden cell's neighbours)."""
    if rows.is_empty():
        return "inga värden visas"
    items = [
        _alt_value(r, measure)
        for r in rows.iter_rows(named=True)
        if not (hidden and measure == "share" and not r["suppressed"] and (r["share"] or 0) < 0.005)
    ]
    return _join(items)


def _alt_phases(frame: pl.DataFrame, title: str) -> str:
    phases = [
        f"{r['category']} {fmt_int(r['n'])} av {fmt_int(r['denominator'])}"
        for r in frame.filter(~pl.col("suppressed")).iter_rows(named=True)
    ]
    return f"Diagram: {title.strip()}. Antal ärenden som registrerats i varje fas: {_join(phases)}."


def alt_text(
    table: pl.DataFrame, title: str, top: int | None = None, kind: str | None = None, notes: Sequence[str] = ()
) -> str:
    """A Swedish description of the figure, built from its table: the N, then every
    category with its share (or count, or mean) and number of cases, in the figure's
    order and per group where the table has groups, what is hidden, and the figure's
    ``notes``. Diagram 1 (``kind`` ``phases``, or ``stacked_bar`` without groups) lists
    every phase. (``top`` is accepted for old callers; every category is named.)"""
    frame = _frame(shown_labels(table))
    groups = _groups(frame)
    if kind == "phases" or (kind == "stacked_bar" and not groups):
        return _alt_phases(frame, title)
    hidden = int(frame["suppressed"].sum())
    visible = frame.filter(~pl.col("suppressed"))
    measure = "mean" if visible["mean"].drop_nulls().len() else "share" if visible["share"].drop_nulls().len() else "n"
    sentences = [f"Diagram: {title.strip() or 'resultat'} ({n_subtitle(frame)})."]
    if groups:
        sentences += [f"{g}: {_alt_items(frame.filter(pl.col('group') == g), measure, hidden)}." for g in groups]
    else:
        body = _alt_items(frame, measure, hidden)
        sentences.append(body[0].upper() + body[1:] + ".")
    if measure == "share" and not groups and visible["share"].drop_nulls().sum() > 1.0001:
        sentences.append(f"{MULTI_NOTE.rstrip('.')}, så andelarna summerar till mer än 100 procent.")
    if hidden:
        what = "ett värde är dolt" if hidden == 1 else f"{hidden} värden är dolda"
        sentences.append(f"{what[0].upper()}{what[1:]} eftersom antalet ärenden är för litet.")
    sentences += [n if n.endswith(".") else n + "." for n in notes if n and n.rstrip(".") != MULTI_NOTE.rstrip(".")]
    return " ".join(sentences)


# --------------------------------------------------------------------------- fast comparison bars
#
# The unit and län reports draw 17 comparison figures each (~600 reports nationally).
# Through plotnine (ggplot build, then PNG at 200 dpi) they were ≈ 10 of a report's
# 14 CPU s on the demo; drawn here straight onto one matplotlib Figure (object API, no
# pyplot state, its own Agg canvas) at UNIT_DPI, ≈ 0.25 s each. It looks like
# grouped_bar_figure: the same house colours, font, wrapped labels, value labels,
# "dold*" marks, N line and notes; plotnine stays for the national figures.

UNIT_DPI = 150  # the reports show a figure at most 6.3 in wide: ≥ 165 px per inch on the page
_PT = 1 / 72  # inches per point
_PAD_IN = 0.12  # figure edge to text
# Unhinted glyphs: ≈ 15 % less drawing time, no visible difference at UNIT_DPI; the same
# settings when the layout is measured and when the pixels are drawn.
_FAST_RC = {"font.family": FONT, "font.size": 9, "text.color": TEXT_COLOUR, "text.hinting": "none"}


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
    the first group on top; a hidden cell keeps its slot, empty, marked ``dold*``
    right of the axis line, in its own group's row, so it never covers a label. The
    mark says why (kvinnofrid.reporting.hidden: ``<5`` or ``dold``) and the caption
    explains each mark used. ``colours``: one per group (an area keeps its colour in
    every report); default the palette in order."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    reasons = table["hidden_reason"] if "hidden_reason" in table.columns else pl.Series([None] * table.height)
    frame = _frame(table).with_columns(reasons.alias("hidden_reason"))
    cats, groups = _categories(frame), _groups(frame) or [""]
    colours = list(colours or PALETTE)
    top = max(frame.filter(~pl.col("suppressed"))["share"].max() or 0.0, 0.01)
    used = {hidden.reason_of(r) for r in frame.filter(pl.col("suppressed")).to_dicts()}
    caption = _caption(
        [*(notes if isinstance(notes, list | tuple) else [notes] if notes else [])]
        + [hidden.note(r, threshold) for r in hidden.REASONS if r in used],
        multi,
        False,
    )
    head, sub = _wrap(title, TITLE_WIDTH), _wrap_parts(_n_line_with_marks(table, frame, n_label, threshold))
    height = _height(len(cats) * max(1, len(groups)) * 0.62, 0.6)
    with matplotlib.rc_context(_FAST_RC):
        fig = Figure(figsize=(WIDTH_IN, height), dpi=UNIT_DPI, facecolor="white")
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.3, 0.2, 0.6, 0.6))
        _comparison_bars(ax, frame, cats, groups, colours, threshold)
        _comparison_axes(ax, cats, top)
        renderer = fig.canvas.get_renderer()
        label_in = max((t.get_window_extent(renderer).width for t in ax.get_yticklabels()), default=0.0) / UNIT_DPI
        top_in = _PAD_IN + _text_block_in(head, 12) + 0.04 + _text_block_in(sub, 10) + 0.12
        # one legend row holds about 80 characters of 9 pt text beside its keys: longer
        # area names are wrapped (two lines) instead of running past the figure's edge
        names = groups if sum(len(g) + 6 for g in groups) <= 80 else [_wrap(g, 24) for g in groups]
        lines = max((n.count("\n") + 1 for n in names), default=1)
        legend_in = 0.3 + 0.16 * (lines - 1) if groups != [""] else 0.0
        bottom_in = _PAD_IN + _text_block_in(caption, 8.5) + (0.1 if caption else 0) + legend_in + 0.28
        left_in = _PAD_IN + label_in + 0.08
        ax.set_position(
            (left_in / WIDTH_IN, bottom_in / height, 1 - (left_in + 0.25) / WIDTH_IN, 1 - (top_in + bottom_in) / height)
        )
        x0 = _PAD_IN / WIDTH_IN
        fig.text(x0, 1 - _PAD_IN / height, head, size=12, weight="bold", va="top", linespacing=1.25)
        fig.text(
            x0,
            1 - (_PAD_IN + _text_block_in(head, 12) + 0.04) / height,
            sub,
            size=10,
            color="#444444",
            va="top",
            linespacing=1.25,
        )
        if caption:
            fig.text(x0, _PAD_IN / height, caption, size=8.5, color="#444444", va="bottom", linespacing=1.25)
        if legend_in:
            handles = [Patch(facecolor=c, label=g) for g, c in zip(names, colours, strict=False)]
            panel = ax.get_position()
            y = (bottom_in - 0.28 - legend_in) / height
            legend = fig.legend(
                handles=handles,
                loc="lower center",
                ncols=len(groups),
                frameon=False,
                fontsize=9,
                bbox_to_anchor=((panel.x0 + panel.x1) / 2, y),
                handlelength=1.0,
                handleheight=1.0,
                columnspacing=1.6,
                borderaxespad=0.0,
            )
            # centred under the panel as plotnine does, but moved left where long area
            # names beside long category labels would push it past the figure's edge
            half = legend.get_window_extent(renderer).width / fig.bbox.width / 2
            legend.set_bbox_to_anchor(
                (max(min((panel.x0 + panel.x1) / 2, 1 - x0 - half), 0.5), y), transform=fig.transFigure
            )
    return fig


def _n_line_with_marks(table: pl.DataFrame, frame: pl.DataFrame, n_label: str | None, threshold: int) -> str:
    """The N line, a hidden N shown by its mark (``<5`` or ``dold``) instead of a dash."""
    line = n_subtitle(frame, n_label)
    if "denominator_reason" not in table.columns:
        return line
    parts = line.split(" · ")
    for k, g in enumerate(_groups(frame)):
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
    ax.set_yticklabels([_wrap(c) for c in cats])
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
