"""The report's figures: one function per figure kind, drawn with plotnine in the house
style of ``reporting.figure_style``. (Their alt text is ``reporting.figure_alt``; the
comparison reports' bars are written as SVG by ``reporting.comparison_figure``.)

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

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import plotnine as p9
import polars as pl

from kvinnofrid.reporting.figure_style import (
    DPI,
    FONT,
    HIDDEN_COLOUR,
    HIGHLIGHT,
    KINDS,
    LEGEND_WIDTH,
    NOT_REGISTERED,
    PALETTE,
    SUPPRESSED_LABEL,
    TEXT_COLOUR,
    TITLE_WIDTH,
    WIDTH_IN,
    categories_of,
    dec_axis,
    figure_caption,
    figure_height,
    groups_of,
    int_axis,
    n_subtitle,
    pct_axis,
    table_frame,
    wrap,
    wrap_parts,
)
from kvinnofrid.reporting.markdown import shown_labels
from kvinnofrid.reporting.numfmt import NBSP, fmt_dec, fmt_int, fmt_pct

__all__ = [
    "assemble",
    "bar_figure",
    "draw_diagram",
    "grouped_bar_figure",
    "histogram_figure",
    "house_theme",
    "make_figure",
    "mean_bar_figure",
    "phases_figure",
    "save_figure",
    "stacked_bar_figure",
]


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


def _labs(title: str, subtitle: str, caption: str | None) -> p9.labs:
    return p9.labs(title=wrap(title, TITLE_WIDTH), subtitle=wrap_parts(subtitle), caption=caption, x="", y="")


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
    frame = table_frame(table)
    cats = categories_of(frame)
    wrapped = [wrap(c) for c in cats]
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
            # group=1: the labels as one group, drawn in one pass in the table's order
            # (top to bottom in the SVG); by default each label is a group of its own,
            # which plotnine transforms and draws one by one
            p9.geom_text(p9.aes(label="label", group=1), ha="left", nudge_y=top * 0.015, size=8.5, color=TEXT_COLOUR),
        ],
        categories=list(reversed(wrapped)),
        value_labels=pct_axis,
        value_max=top * 1.14,
        title=title,
        subtitle=n_subtitle(frame, n_label),
        caption=figure_caption(notes, multi, hidden.height > 0),
        height=figure_height(len(cats), 0.3 * multi),
    )
    if hidden.height:
        plot += p9.geom_text(
            p9.aes("label_cat", 0, group=1),
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
    frame = table_frame(table)
    cats = categories_of(frame)
    groups = groups_of(frame) or [""]
    wrapped = [wrap(c) for c in cats]
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
        value_labels=pct_axis,
        value_max=top * 1.16,
        title=title,
        subtitle=n_subtitle(frame, n_label),
        caption=figure_caption(notes, multi, hidden.height > 0),
        height=figure_height(len(cats) * max(1, len(groups)) * 0.62, 0.6),
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
    frame = table_frame(table)
    groups = groups_of(frame)
    if not groups:
        return phases_figure(table, title, n_label, notes, multi)
    cats = categories_of(frame)
    colours = dict(zip(cats, PALETTE, strict=False))
    data = frame.with_columns(
        pl.col("share").map_elements(lambda s: fmt_pct(s) if s >= 0.04 else "", return_dtype=pl.String).alias("label"),
    )
    shown = _pd(data.filter(~pl.col("suppressed") & pl.col("share").is_not_null()))
    hidden = data.filter(pl.col("suppressed"))
    # position_stack puts the first level at the far end; reverse so the first
    # category starts at 0 %, and keep the legend in table order.
    shown["category"] = pd.Categorical(shown["category"], categories=list(reversed(cats)))
    wrapped_cats = {c: wrap(c, LEGEND_WIDTH) for c in cats}
    plot = assemble(
        shown,
        p9.aes("group", "share", fill="category"),
        [
            p9.geom_col(position="stack", width=0.7),
            p9.geom_text(p9.aes(label="label"), position=p9.position_stack(vjust=0.5), size=8.5, color="white"),
            p9.scale_fill_manual(values=colours, breaks=cats, labels=[wrapped_cats[c] for c in cats]),
        ],
        categories=list(reversed(groups)),
        value_labels=pct_axis,
        value_max=1.0001,
        title=title,
        subtitle=n_subtitle(frame, n_label),
        caption=figure_caption(notes, multi, hidden.height > 0),
        height=figure_height(len(groups), 0.8 + 0.28 * len(cats)),
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
    frame = table_frame(table)
    cats = categories_of(frame)
    wrapped = [wrap(c) for c in cats]
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
        value_labels=int_axis,
        value_max=top * 1.02,
        title=title,
        subtitle=n_subtitle(frame, n_label or "N = {n} ärenden"),
        caption=figure_caption(notes, multi, hidden),
        height=figure_height(len(cats), 0.5),
    )


def histogram_figure(
    table: pl.DataFrame,
    title: str,
    n_label: str | None = None,
    notes: Sequence[str] | str | None = None,
    multi: bool = False,
) -> p9.ggplot:
    """Vertical bars of counts over ordered bins (diagram 16), ``1 023`` above each."""
    frame = table_frame(table)
    cats = categories_of(frame)
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
            p9.geom_text(p9.aes(label="label", group=1), va="bottom", nudge_y=top * 0.012, size=8.5, color=TEXT_COLOUR),
        ],
        categories=cats,
        value_labels=int_axis,
        value_max=top * 1.1,
        title=title,
        subtitle=n_subtitle(frame, n_label),
        caption=figure_caption(notes, multi, hidden.height > 0),
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
    frame = table_frame(table)
    cats = categories_of(frame)
    # each category's own N under its label: the means rest on very different numbers
    counts = dict(zip(frame["category"].to_list(), frame["n"].to_list()))
    wrapped = [wrap(c) + (f"\n(N = {fmt_int(counts[c])})" if counts.get(c) is not None else "") for c in cats]
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
            p9.geom_text(p9.aes(label="label", group=1), ha="left", nudge_y=top * 0.015, size=8.5, color=TEXT_COLOUR),
            p9.scale_fill_manual(values={True: HIGHLIGHT, False: PALETTE[0]}),
        ],
        categories=list(reversed(wrapped)),
        value_labels=dec_axis,
        value_max=top * 1.12,
        title=title,
        subtitle=subtitle,
        caption=figure_caption(notes, multi, hidden.height > 0),
        height=figure_height(len(cats), 0.22 * len(cats)),
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
