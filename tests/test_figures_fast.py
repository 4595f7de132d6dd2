"""The unit reports' comparison bars drawn straight with matplotlib
(fast_figure.comparison_bar_figure): what the reader sees is in the figure's artists."""

import polars as pl

from kvinnofrid.reporting import fast_figure, figure_style, hidden
from kvinnofrid.reporting.numfmt import NBSP, fmt_pct

AREAS = ("Arboga", "Kommuner med mindre än 15 000 invånare", "Riket")
CATEGORIES = ("Fysiskt våld", "Psykiskt våld inklusive hot och kränkningar i hemmet", "Sexuellt våld")
HIDDEN = {("Arboga", "Sexuellt våld")}


def comparison() -> pl.DataFrame:
    rows = []
    for i, area in enumerate(AREAS):
        for j, category in enumerate(CATEGORIES):
            hidden = (area, category) in HIDDEN
            rows.append(
                {
                    "group": area,
                    "category": category,
                    "n": None if hidden else 10 + i + j,
                    "denominator": 40 + i,
                    "share": None if hidden else (10 + i + j) / (40 + i),
                    "suppressed": hidden,
                }
            )
    return pl.DataFrame(rows)


def _figure(table: pl.DataFrame | None = None):
    return fast_figure.comparison_bar_figure(
        comparison() if table is None else table,
        "Vilka våldsformer?",
        n_label="{group}: N = {n}",
        notes=["En not."],
        multi=True,
    )


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_visible())]


def test_every_area_category_and_visible_share_is_shown():
    fig = _figure()
    texts = _texts(fig)
    for category in CATEGORIES:
        assert figure_style.wrap(category) in texts
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == list(AREAS)
    table = comparison()
    for row in table.filter(~pl.col("suppressed")).iter_rows(named=True):
        assert NBSP + fmt_pct(row["share"]) in texts
    bars = sorted(round(p.get_width(), 9) for p in fig.axes[0].patches)
    assert bars == sorted(round(s, 9) for s in table["share"].drop_nulls())
    title, subtitle, caption = (t.get_text() for t in fig.texts)
    assert title == "Vilka våldsformer?"
    assert subtitle == figure_style.wrap_parts(figure_style.n_subtitle(table, "{group}: N = {n}"))
    # a hidden cell without a reason is marked as hidden to protect another; its note is there
    assert "En not." in caption and figure_style.MULTI_NOTE in caption and hidden.note(None).split(",")[0] in caption


def test_each_hidden_cell_shows_the_mark_of_its_reason_and_the_caption_explains_each():
    reasons = [
        "under_troskel" if s and r % 2 else ("skyddar_annat" if s else None)
        for r, s in enumerate(comparison()["suppressed"])
    ]
    table = comparison().with_columns(pl.Series("hidden_reason", reasons, dtype=pl.String))
    fig = _figure(table)
    shown = sorted(t.get_text().strip(NBSP) for t in fig.axes[0].texts if t.get_text().strip(NBSP) in ("<5", "dold"))
    assert shown == sorted(hidden.mark(r) for r in reasons if r)
    caption = fig.texts[2].get_text().replace("\n", " ")
    for r in set(reasons) - {None}:
        assert hidden.note(r).split(":")[1].split(",")[0].strip() in caption


def test_hidden_cells_are_marked_in_their_slot_and_never_cover_a_label():
    fig = _figure()
    ax = fig.axes[0]
    marks = [t for t in ax.texts if t.get_text() == NBSP + hidden.mark(None)]
    assert len(marks) == len(HIDDEN)
    assert f"0{NBSP}%" not in [t.get_text().strip(NBSP) for t in ax.texts]  # never drawn as a zero bar
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    values = [t.get_window_extent(renderer) for t in ax.texts if t not in marks]
    for mark in marks:
        box = mark.get_window_extent(renderer)
        assert box.x0 >= ax.get_window_extent(renderer).x0  # right of the axis line
        assert not any(box.overlaps(other) for other in labels + values)
        # in Arboga's (the first group's) slot, above its category's centre
        category = CATEGORIES.index("Sexuellt våld")
        assert category - 0.4 < mark.get_position()[1] < category


def test_two_draws_give_the_same_png_bytes_and_other_numbers_other_bytes(tmp_path):
    first = fast_figure.save_fast_figure(_figure(), tmp_path / "1.png").read_bytes()
    second = fast_figure.save_fast_figure(_figure(), tmp_path / "2.png").read_bytes()
    assert first == second and first.startswith(b"\x89PNG")
    other = comparison().with_columns(pl.col("share") / 2)
    assert fast_figure.save_fast_figure(_figure(other), tmp_path / "3.png").read_bytes() != first


def test_long_area_names_beside_long_labels_keep_the_legend_inside_the_figure():
    long_names = {
        "Arboga": "Enskede-Årsta-Vantörs stadsdelsförvaltning",
        "Kommuner med mindre än 15 000 invånare": "Kommuner med 100 000 invånare eller fler",
    }
    table = comparison().with_columns(
        pl.col("group").replace(long_names), pl.col("category") + " och några ord till för en lång etikett"
    )
    fig = _figure(table)
    fig.canvas.draw()
    box = fig.legends[0].get_window_extent(fig.canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width
    shown = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert shown == table["group"].unique(maintain_order=True).to_list()
    legend_top = box.y1
    assert all(legend_top < t.get_window_extent().y0 for t in fig.axes[0].get_xticklabels() if t.get_text())
