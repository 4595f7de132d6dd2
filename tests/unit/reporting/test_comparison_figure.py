"""The unit reports' comparison bars written as SVG (comparison_figure): what the reader
sees is in the figure's shapes, every word stays inside the figure and off the others,
and the SVG holds exactly those shapes."""

import itertools
import xml.etree.ElementTree as ET

import polars as pl
import pytest

from kvinnofrid.reporting import comparison_figure as cf
from kvinnofrid.reporting import figure_style, hidden
from kvinnofrid.reporting.numfmt import fmt_pct

AREAS = ("Arboga", "Kommuner med mindre än 15 000 invånare", "Riket")
CATEGORIES = ("Fysiskt våld", "Psykiskt våld inklusive hot och kränkningar i hemmet", "Sexuellt våld")
HIDDEN = {("Arboga", "Sexuellt våld")}
SVG = "{http://www.w3.org/2000/svg}"


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


def _figure(table: pl.DataFrame | None = None) -> cf.Figure:
    return cf.layout(
        comparison() if table is None else table,
        "Vilka våldsformer?",
        n_label="{group}: N = {n}",
        notes=["En not."],
        multi=True,
    )


def _words(fig: cf.Figure, role: str) -> list[str]:
    return [t.text for t in fig.texts(role)]


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_every_area_category_and_visible_share_is_shown():
    fig = _figure()
    assert _words(fig, "category") == [figure_style.wrap(c) for c in CATEGORIES]
    assert _words(fig, "legend") == list(AREAS)
    table = comparison()
    assert sorted(_words(fig, "value")) == sorted(fmt_pct(s) for s in table["share"].drop_nulls())
    assert sorted(r.value for r in fig.rects("bar")) == sorted(table["share"].drop_nulls())
    # a bar's length is its share on the value axis: 0 at the panel's left edge
    x0, _, x1, _ = fig.panel
    assert all(abs(r.width - r.value / fig.limit * (x1 - x0)) < 1e-9 for r in fig.rects("bar"))
    assert _words(fig, "title") == ["Vilka våldsformer?"]
    (n_line,) = _words(fig, "n")
    assert n_line.replace("\n", " · ") == figure_style.n_subtitle(table, "{group}: N = {n}")
    (caption,) = _words(fig, "caption")
    # a hidden cell without a reason is marked as hidden to protect another; its note is there
    assert "En not." in caption and figure_style.MULTI_NOTE in caption and hidden.note(None).split(",")[0] in caption


def test_each_area_keeps_its_colour_in_its_bars_and_its_legend_key():
    colours = ["#111111", "#222222", "#333333"]
    fig = cf.layout(comparison(), "T", colours=colours)
    assert [r.colour for r in fig.rects("key")] == colours
    shares = dict(zip(comparison()["share"], comparison()["group"], strict=True))
    assert all(r.colour == colours[AREAS.index(shares[r.value])] for r in fig.rects("bar"))


def test_each_hidden_cell_shows_the_mark_of_its_reason_and_the_caption_explains_each():
    reasons = [
        "under_troskel" if s and r % 2 else ("skyddar_annat" if s else None)
        for r, s in enumerate(comparison()["suppressed"])
    ]
    table = comparison().with_columns(pl.Series("hidden_reason", reasons, dtype=pl.String))
    fig = _figure(table)
    assert sorted(_words(fig, "mark")) == sorted(hidden.mark(r) for r in reasons if r)
    caption = _words(fig, "caption")[0].replace("\n", " ")
    for r in set(reasons) - {None}:
        assert hidden.note(r).split(":")[1].split(",")[0].strip() in caption


def test_hidden_cells_are_marked_in_their_slot_and_never_cover_a_label():
    fig = _figure()
    marks = fig.texts("mark")
    assert len(marks) == len(HIDDEN)
    assert fmt_pct(0) not in _words(fig, "value")  # never drawn as a zero bar
    others = [t.box() for t in fig.texts() if t.role in ("category", "value", "tick")]
    x0, y0, _, y1 = fig.panel
    category = CATEGORIES.index("Sexuellt våld")
    row = (y1 - y0) / len(CATEGORIES)
    centre = y0 + (category + 0.6) * row
    for mark in marks:
        box = mark.box()
        assert box[0] >= x0  # right of the axis line
        assert not any(_overlap(box, other) for other in others)
        # in Arboga's (the first group's) slot: above its category's centre, below its top
        assert centre - 0.4 * row < (box[1] + box[3]) / 2 < centre


def test_every_word_stays_inside_the_figure_and_the_labels_left_of_the_panel():
    long = comparison().with_columns(pl.col("category") + " och några ord till för en riktigt lång etikett")
    for table in (comparison(), long):
        fig = _figure(table)
        for t in fig.texts():
            x0, y0, x1, y1 = t.box()
            assert x0 >= 0 and x1 <= fig.width and y0 >= 0 and y1 <= fig.height, (t.role, t.text)
        assert max(t.box()[2] for t in fig.texts("category")) <= fig.panel[0]
        values = [t.box() for t in fig.texts("value")]
        assert max(b[2] for b in values) <= fig.width
        words = [t.box() for t in fig.texts() if t.role in ("title", "n", "caption", "tick", "legend")]
        assert not any(_overlap(a, b) for i, a in enumerate(words) for b in words[i + 1 :])


def test_long_area_names_beside_long_labels_keep_the_legend_inside_the_figure():
    long_names = {
        "Arboga": "Enskede-Årsta-Vantörs stadsdelsförvaltning",
        "Kommuner med mindre än 15 000 invånare": "Kommuner med 100 000 invånare eller fler",
    }
    table = comparison().with_columns(
        pl.col("group").replace(long_names), pl.col("category") + " och några ord till för en lång etikett"
    )
    fig = _figure(table)
    legend = [t.box() for t in fig.texts("legend")] + [
        (r.x, r.y, r.x + r.width, r.y + r.height) for r in fig.rects("key")
    ]
    assert min(b[0] for b in legend) >= 0 and max(b[2] for b in legend) <= fig.width
    shown = [t.replace("\n", " ") for t in _words(fig, "legend")]
    assert shown == table["group"].unique(maintain_order=True).to_list()
    assert max(t.box()[3] for t in fig.texts("tick")) < min(b[1] for b in legend)


def test_value_axis_breaks_are_round_and_cover_the_largest_bar():
    assert cf._ticks(0.52) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert cf._ticks(1.16) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert cf._ticks(0.0116) == pytest.approx([0, 0.002, 0.004, 0.006, 0.008, 0.01])
    fig = _figure()
    ticks = [t.text for t in fig.texts("tick")]
    assert ticks[0] == fmt_pct(0) and len(ticks) <= 7
    assert fig.limit == pytest.approx(max(comparison()["share"].drop_nulls()) * 1.16)


def test_widths_are_the_fonts_own_as_matplotlib_measures_them():
    """The margins come from the font's advance widths: a wrong font file or unit would
    put labels over the panel or past the edge."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(100, 100, 720)  # ten pixels per point: hinting moves widths little
    for text, bold in (("Psykiskt våld inklusive hot och", False), ("Vilka våldsformer?", True), ("45\u00a0%", False)):
        prop = FontProperties(family=figure_style.FONT, size=9, weight="bold" if bold else "normal")
        width, _, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
        assert cf.text_width(text, 9, bold) == pytest.approx(width / 10, rel=0.01), text


def test_the_svg_holds_the_layout_and_two_writes_give_the_same_bytes(tmp_path):
    fig = _figure()
    svg = cf.to_svg(fig)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("width") == f"{cf.WIDTH:g}pt"
    assert root.findtext(f"{SVG}title") == "Vilka våldsformer?"
    texts = ["\n".join([t.text or ""] + [s.text for s in t.findall(f"{SVG}tspan")]) for t in root.iter(f"{SVG}text")]
    assert texts == [t.text for t in fig.texts()]
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("fill") in figure_style.PALETTE]
    assert len(bars) == len(fig.rects("bar")) + len(fig.rects("key"))
    assert {t.get("font-style") for t in root.iter(f"{SVG}text") if t.text == hidden.mark(None)} == {"italic"}
    first = cf.save_svg(cf.comparison_bar_figure(comparison(), "T"), tmp_path / "1.svg").read_bytes()
    second = cf.save_svg(cf.comparison_bar_figure(comparison(), "T"), tmp_path / "2.svg").read_bytes()
    assert first == second
    other = comparison().with_columns(pl.col("share") / 2)
    assert cf.save_svg(cf.comparison_bar_figure(other, "T"), tmp_path / "3.svg").read_bytes() != first


def test_words_that_look_like_markup_stay_words():
    table = comparison().with_columns(pl.col("category").str.replace("Fysiskt våld", "Våld <fysiskt> & annat"))
    root = ET.fromstring(cf.comparison_bar_figure(table, 'Titel "med" <tecken>'))
    assert root.findtext(f"{SVG}title") == 'Titel "med" <tecken>'
    assert "Våld <fysiskt> & annat" in [t.text for t in root.iter(f"{SVG}text")]


def test_a_hidden_n_shows_the_mark_of_its_reason_in_the_n_line():
    """A group whose every denominator is hidden shows ``<5`` or ``dold`` for its N."""
    table = comparison().with_columns(
        pl.when(pl.col("group") == "Arboga").then(None).otherwise(pl.col("denominator")).alias("denominator"),
        pl.when(pl.col("group") == "Arboga").then(pl.lit("under_troskel")).alias("denominator_reason"),
    )
    (line,) = _words(_figure(table), "n")
    assert line.replace("\n", " ").startswith(f"Arboga: N = {hidden.mark('under_troskel')} · ")
    assert "Riket: N = 42" in line.replace("\n", " ")


def test_the_n_line_breaks_between_areas_where_the_next_would_run_past_the_edge():
    long_names = {"Arboga": "Enskede-Årsta-Vantörs stadsdelsförvaltning", "Riket": "Riket med ett mycket långt namn"}
    for names in ({}, long_names):
        table = comparison().with_columns(pl.col("group").replace(names))
        (n_line,) = _words(_figure(table), "n")
        lines = n_line.split("\n")
        assert " · ".join(lines) == figure_style.n_subtitle(table, "{group}: N = {n}")
        assert all(cf.text_width(line, 10) <= (cf.WIDTH - 2 * cf._PAD) * 0.95 for line in lines)
        # a break only where the next area would not fit: no two lines would fit as one
        assert all(
            cf.text_width(a + " · " + b, 10) > (cf.WIDTH - 2 * cf._PAD) * 0.95 for a, b in itertools.pairwise(lines)
        )
    assert len(lines) >= 2
