"""Hidden cells in the comparison figures (issue 14): a readable "dold" mark in the
hidden group's own bar slot, clear of the axis labels and of every other bar, at the
registry's longest category labels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import polars as pl
import pytest

from kvinnofrid.reporting import figure_alt, figure_style, figures
from kvinnofrid.spec import codebook

CB = codebook.load()
# the longest labels a comparison figure shows (diagram 11, 15)
LONG = [CB["implementation"].label_of(2), CB["goal_followup"].label_of(2), "Annat"]
GROUPS = ["Arboga", "Kommuner med under 15 000 invånare", "Riket"]


def table(hidden: set[tuple[str, str]]) -> pl.DataFrame:
    rows = []
    for g, scale in zip(GROUPS, (1, 3, 90), strict=True):
        for c, n in zip(LONG, (10, 6, 4), strict=True):
            d = 20 * scale
            secret = (g, c) in hidden
            rows.append(
                {
                    "group": g,
                    "category": c,
                    "n": None if secret else n * scale,
                    "denominator": d,
                    "share": None if secret else n * scale / d,
                    "suppressed": secret,
                }
            )
    return pl.DataFrame(rows)


def bar_boxes(ax):
    """The display boxes of the drawn bars of width > 0 (plotnine draws them as collections)."""
    boxes = []
    for coll in ax.collections:
        for path in coll.get_paths():
            box = coll.get_transform().transform_path(path).get_extents()
            if box.width > 0.5 and box.height > 0.5:
                boxes.append(box)
    return boxes


def drawn(plot):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plot.draw()
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    marks = [t for t in ax.texts if figure_style.SUPPRESSED_LABEL in t.get_text()]
    return fig, ax, renderer, marks


@pytest.mark.parametrize("hidden", [{("Arboga", LONG[0])}, {("Arboga", LONG[1]), ("Arboga", LONG[2])}])
def test_a_hidden_cell_is_marked_in_its_own_slot_clear_of_labels_and_bars(hidden):
    plot = figures.grouped_bar_figure(table(hidden), "Genomförs de planerade insatserna?")
    fig, ax, renderer, marks = drawn(plot)
    visible = [t for t in marks if t.get_visible() and t.get_text().strip()]
    assert len(visible) == len(hidden)
    ticks = [t.get_window_extent(renderer) for t in ax.get_yticklabels() if t.get_text()]
    bars = bar_boxes(ax)
    assert len(bars) == 3 * len(LONG) - len(hidden)
    axis_x = ax.get_window_extent(renderer).x0
    for mark in visible:
        box = mark.get_window_extent(renderer)
        assert box.x0 >= axis_x - 0.5, "the mark starts at the axis line, not over the labels"
        assert not any(box.overlaps(t) for t in ticks)
        assert not any(box.overlaps(b) for b in bars), "the mark covers another group's bar"
        assert mark.get_fontsize() >= 7.5
    matplotlib.pyplot.close(fig)


def test_every_group_keeps_its_slot_when_one_is_hidden():
    """The shown bars of a category stay where they are when another group's is hidden."""

    def centres(hidden):
        fig, ax, _renderer, _ = drawn(figures.grouped_bar_figure(table(hidden), "t"))
        to_data = ax.transData.inverted()  # the caption differs: compare in data units
        out = sorted(round(to_data.transform(((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2))[1], 2) for b in bar_boxes(ax))
        matplotlib.pyplot.close(fig)
        return out

    full = centres(set())
    partial = centres({("Arboga", LONG[0])})
    assert set(partial) <= set(full) and len(partial) == len(full) - 1


def test_alt_text_of_a_partly_hidden_area_ranks_only_shown_nonzero_shares():
    t = pl.DataFrame(
        {
            "group": [None] * 3,
            "category": ["stor", "noll", "dold"],
            "n": [9, 0, None],
            "denominator": [20] * 3,
            "share": [0.45, 0.0, None],
            "suppressed": [False, False, True],
        }
    )
    text = figure_alt.alt_text(t, "Titel").replace("\u00a0", " ")
    assert "Stor 45 % (9 ärenden)" in text and "dold dold" in text
    assert "noll" not in text and "dold 0" not in text and "Ett värde är dolt" in text
