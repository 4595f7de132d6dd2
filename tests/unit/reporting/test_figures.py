"""The house-style figures: every kind renders, labels are Swedish, files are deterministic."""

import re

import polars as pl
import pytest

from kvinnofrid.reporting import figure_alt, figure_style, figures
from kvinnofrid.reporting.numfmt import NBSP

SCHEMA = {
    "group": pl.String,
    "category": pl.String,
    "n": pl.Int64,
    "denominator": pl.Int64,
    "share": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "mean": pl.Float64,
    "suppressed": pl.Boolean,
}


def table(rows: list[dict]) -> pl.DataFrame:
    """A diagram table with every contract column (missing keys = null/False)."""
    full = [{c: r.get(c, False if c == "suppressed" else None) for c in SCHEMA} for r in rows]
    return pl.DataFrame(full, schema=SCHEMA)


SEX = table(
    [
        {"category": "Kvinna", "n": 2858, "denominator": 3048, "share": 2858 / 3048},
        {"category": "Man", "n": 190, "denominator": 3048, "share": 190 / 3048},
    ]
)

ORIGIN_WITH_HIDDEN = table(
    [
        {"category": "Född i Sverige, minst en förälder född i Sverige", "n": 1720, "denominator": 3017, "share": 0.57},
        {"category": "Född utanför Europa", "n": 724, "denominator": 3017, "share": 0.24},
        {"category": "Vet inte", "denominator": 3017, "suppressed": True},
    ]
)

AGE_BY_HRV = table(
    [
        {"group": g, "category": c, "n": n, "denominator": d, "share": n / d}
        for g, d, counts in (("HRV", 296, (100, 101, 95)), ("Ej HRV", 2484, (220, 795, 1469)))
        for c, n in zip(("18–24", "25–34", "35–44"), counts)
    ]
)

REASON_BY_DURATION = table(
    [
        {"group": g, "category": c, "n": n, "denominator": sum(ns), "share": n / sum(ns)}
        for g, ns in (("1–90", (150, 362, 199)), ("271–360", (94, 17, 18)))
        for c, n in zip(("Målet uppnått", "Tackat nej", "Inte återkommit"), ns)
    ]
)

PHASES = table(
    [
        {"category": "Aktualiserade", "n": 3070, "denominator": 3070, "share": 1.0},
        {"category": "Fått insats", "n": 2623, "denominator": 3070, "share": 2623 / 3070},
        {"category": "Avslutade", "n": 2456, "denominator": 3070, "share": 2456 / 3070},
        {"category": "Genomfört brukarenkät", "n": 878, "denominator": 2456, "share": 878 / 2456},
    ]
)

DURATION = table(
    [
        {"category": c, "n": n, "denominator": 2163}
        for c, n in (("1–90", 1023), ("91–180", 564), ("181–270", 269), ("721–", 0))
    ]
)

MEANS = table(
    [
        {"category": "HRV", "n": 279, "denominator": 279, "mean": 3.3},
        {"category": "Genomsnitt", "n": 2623, "denominator": 2623, "mean": 2.4},
        {"category": "65–74 år", "n": 41, "denominator": 41, "mean": 1.9},
    ]
)

CASES = [
    ("bar", SEX, "Hur ser könsfördelningen ut?", f"94{NBSP}%"),
    ("bar", ORIGIN_WITH_HIDDEN, "Vilket ursprung har klienterna?", f"57{NBSP}%"),
    ("grouped_bar", AGE_BY_HRV, "Hur fördelar sig HRV i olika åldersgrupper?", f"34{NBSP}%"),
    ("stacked_bar", REASON_BY_DURATION, "Hur förhåller sig kontaktens längd till avslutsorsaken?", f"73{NBSP}%"),
    ("stacked_bar", PHASES, "Antal ärenden i olika faser", f"3{NBSP}070"),
    ("phases", PHASES, "Antal ärenden i olika faser", f"2{NBSP}623"),
    ("histogram", DURATION, "Hur många dagar varar kontakten?", f"1{NBSP}023"),
    ("mean_bar", MEANS, "Hur många insatser per ärende?", "2,4"),
]


def _svg_text(svg: bytes) -> str:
    return svg.decode("utf-8").replace("&#160;", NBSP).replace("&#xa0;", NBSP)


@pytest.mark.parametrize(("kind", "frame", "title", "label"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_kind_renders_png_and_svg_with_title_and_swedish_label(tmp_path, kind, frame, title, label):
    plot = figures.make_figure(kind, frame, title, notes=["Källa: SU-Kvinnofrid"], multi=kind == "bar")
    png, svg = figures.save_figure(plot, tmp_path / "d.png", tmp_path / "d.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = _svg_text(svg.read_bytes())
    assert title.split("?")[0][:40] in text
    assert label in text
    assert "Källa: SU-Kvinnofrid" in text


def test_multi_choice_note_is_the_caption(tmp_path):
    plot = figures.bar_figure(SEX, "Vem har initierat kontakt?", multi=True)
    _, svg = figures.save_figure(plot, tmp_path / "d.png", tmp_path / "d.svg")
    assert figure_style.MULTI_NOTE in _svg_text(svg.read_bytes())


def test_n_label_in_subtitle(tmp_path):
    _, svg = figures.save_figure(figures.bar_figure(SEX, "Kön"), tmp_path / "a.png", tmp_path / "a.svg")
    assert f"N = 3{NBSP}048" in _svg_text(svg.read_bytes())
    assert figure_style.n_subtitle(AGE_BY_HRV) == f"HRV: N = 296 · Ej HRV: N = 2{NBSP}484"
    assert (
        figure_style.n_subtitle(SEX, "Ärenden med angivet kön, N = {n}") == f"Ärenden med angivet kön, N = 3{NBSP}048"
    )
    assert figure_style.n_subtitle(SEX, "Alla ärenden") == "Alla ärenden"
    assert figure_style.n_subtitle(AGE_BY_HRV, "{group}: N = {n}") == f"HRV: N = 296 · Ej HRV: N = 2{NBSP}484"
    # diagram 17: the duration bins partition the cases, N is their sum
    assert figure_style.n_subtitle(REASON_BY_DURATION, "N = {n}") == "N = 840"
    assert figure_style.n_subtitle(PHASES, "N = {n} ärenden") == f"N = 3{NBSP}070 ärenden"


def test_suppressed_row_is_a_marked_gap_not_a_zero(tmp_path):
    _, svg = figures.save_figure(
        figures.bar_figure(ORIGIN_WITH_HIDDEN, "Ursprung"), tmp_path / "a.png", tmp_path / "a.svg"
    )
    text = _svg_text(svg.read_bytes())
    assert figure_style.SUPPRESSED_LABEL in text
    assert figure_style.SUPPRESSED_NOTE in text
    labels = re.findall(r">([^<>]*)</text>", text)
    assert labels.count(f"0{NBSP}%") == 1  # the axis tick only: no bar labelled 0 %


def test_value_labels_come_in_the_svg_in_the_tables_order_top_to_bottom(tmp_path):
    """Screen readers and text extraction read the SVG in document order: a bar's value
    label follows the bar above it, not the order of the labels' strings."""
    shares = (0.31, 0.05, 0.52, 0.12)  # sorted as text, 12 % would come before 31 %
    frame = table(
        [
            {"category": c, "n": round(s * 1000), "denominator": 1000, "share": s}
            for c, s in zip(("Första", "Andra", "Tredje", "Fjärde"), shares)
        ]
    )
    _, svg = figures.save_figure(figures.bar_figure(frame, "Ordning"), tmp_path / "a.png", tmp_path / "a.svg")
    labels = [f"{round(s * 100)}{NBSP}%" for s in shares]
    found = [
        (label, float(y))
        for y, label in re.findall(r'<text [^>]*y="([0-9.]+)"[^>]*>([^<>]*)</text>', _svg_text(svg.read_bytes()))
        if label in labels
    ]
    assert [label for label, _ in found] == labels
    assert [y for _, y in found] == sorted(y for _, y in found)


def test_figures_are_byte_identical_on_rerun(tmp_path):
    for i in (1, 2):
        plot = figures.grouped_bar_figure(AGE_BY_HRV, "Hur fördelar sig HRV i olika åldersgrupper?")
        figures.save_figure(plot, tmp_path / f"{i}.png", tmp_path / f"{i}.svg")
    assert (tmp_path / "1.svg").read_bytes() == (tmp_path / "2.svg").read_bytes()
    assert (tmp_path / "1.png").read_bytes() == (tmp_path / "2.png").read_bytes()
    assert b"<dc:date>" not in (tmp_path / "1.svg").read_bytes()


def test_long_labels_are_wrapped():
    assert figure_style.wrap("Positiv förändring och målet uppnått (mål uppfyllda)") == (
        "Positiv förändring och målet\nuppnått (mål uppfyllda)"
    )


def test_a_number_in_digit_groups_is_never_broken_over_two_lines():
    # textwrap alone gives "Kommuner med 40 000–99" / "999 invånare"
    assert figure_style.wrap("Kommuner med 40 000–99 999 invånare", 24) == "Kommuner med\n40 000–99 999 invånare"
    assert figure_style.wrap("Kommuner med 100 000 invånare eller fler", 24) == (
        "Kommuner med 100 000\ninvånare eller fler"
    )
    assert figure_style.wrap("Ålder 1 2 3 år", 8) == "Ålder 1\n2 3 år"  # not digit groups: free to break


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="okänd diagramtyp 'pie'"):
        figures.make_figure("pie", SEX, "x")


def test_alt_text_lists_every_category_with_its_share_in_figure_order():
    text = figure_alt.alt_text(SEX, "Hur ser könsfördelningen ut?")
    assert "Hur ser könsfördelningen ut?" in text
    assert f"Kvinna 94{NBSP}% (2{NBSP}858 ärenden)" in text
    assert f"Man 6{NBSP}% (190 ärenden)" in text
    assert text.index("Kvinna") < text.index("Man")
    assert f"N = 3{NBSP}048" in text


def test_alt_text_for_groups_counts_means_and_hidden_values():
    grouped = figure_alt.alt_text(AGE_BY_HRV, "Ålder och HRV")
    for group in ("HRV", "Ej HRV"):
        rows = AGE_BY_HRV.filter(pl.col("group") == group)
        listed = grouped.split(f". {group}: ")[1].split(".")[0]
        # every category of the group, in the table's order
        positions = [listed.index(f"{c} ") for c in rows["category"].to_list()]
        assert positions == sorted(positions), group
    assert f"1–90 (1{NBSP}023 ärenden)" in figure_alt.alt_text(DURATION, "Dagar")
    assert "HRV 3,3" in figure_alt.alt_text(MEANS, "Insatser")
    assert "Ett värde är dolt" in figure_alt.alt_text(ORIGIN_WITH_HIDDEN, "Ursprung")


def test_alt_text_for_phases_lists_every_phase():
    text = figure_alt.alt_text(PHASES, "Antal ärenden i olika faser", kind="phases")
    assert "Aktualiserade" in text
    assert f"Fått insats 2{NBSP}623 av 3{NBSP}070" in text
    assert f"Genomfört brukarenkät 878 av 2{NBSP}456" in text


def test_draw_diagram_reads_a_registry_entry(tmp_path):
    from kvinnofrid.spec.diagrams import load_registry

    entry = next(d for d in load_registry().diagrams if d.number == 1)
    _, svg = figures.save_figure(figures.draw_diagram(entry, PHASES), tmp_path / "d.png", tmp_path / "d.svg")
    text = _svg_text(svg.read_bytes())
    assert "Antal ärenden i olika faser" in text and f"N = 3{NBSP}070 ärenden" in text
