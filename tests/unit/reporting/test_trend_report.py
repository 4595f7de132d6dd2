"""The round comparison in the report: figure, table and sentences from a tiny
hand-made trend table; the chapter section in build_book."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from support.claim_checks import check_ledger, words_outside_claims
from support.report_inputs import book_kwargs, report_inputs

from kvinnofrid.reporting import comparison_figure, figure_style, figures, trend_report
from kvinnofrid.reporting.book import CLAIMS_FILE, build_book
from kvinnofrid.reporting.numfmt import NBSP
from kvinnofrid.statistics import trend

INTERIM, FINAL = dt.date(2023, 5, 15), dt.date(2023, 10, 10)
PREVIOUS = "Tidigare rapport 2019–2020"


def pct(k: int) -> str:
    return f"{k}{NBSP}%"


@pytest.fixture()
def shares() -> pl.DataFrame:
    rows = [
        ("share_women", "Andel kvinnor", PREVIOUS, None, None, None, 0.91, None, None),
        ("share_women", "Andel kvinnor", "Preliminär sammanställning", INTERIM, 940, 1000, 0.94, 0.924, 0.953),
        ("share_women", "Andel kvinnor", "Slutlig sammanställning", FINAL, 2858, 3048, 0.937664, 0.9285, 0.9457),
        # 12,4 % -> 12 % and 14,6 % -> 15 %: 2,2 points apart, 3 as the reader sees them
        ("share_hrv", "Andel ärenden med hedersrelaterat våld", PREVIOUS, None, None, None, 0.15, None, None),
        (
            "share_hrv",
            "Andel ärenden med hedersrelaterat våld",
            "Preliminär sammanställning",
            INTERIM,
            124,
            1000,
            0.124,
            0.105,
            0.146,
        ),
        (
            "share_hrv",
            "Andel ärenden med hedersrelaterat våld",
            "Slutlig sammanställning",
            FINAL,
            438,
            3000,
            0.146,
            0.134,
            0.159,
        ),
    ]
    return pl.DataFrame(rows, schema=trend.TREND_SCHEMA, orient="row")


@pytest.fixture()
def rounds() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "round": [INTERIM, FINAL],
            "source": ["Preliminär sammanställning", "Slutlig sammanställning"],
            "units": [20, 34],
            "cases": [1000, 3070],
        },
        schema=trend.ROUNDS_SCHEMA,
    )


def test_text_gives_rounds_largest_change_and_previous_values(shares, rounds):
    text = trend_report.trend_text(shares, rounds)
    # prose: dates written out, "procent", not "%"
    assert text.startswith(
        f"Underlaget 15 maj 2023 (preliminär sammanställning) omfattade 1{NBSP}000 ärenden "
        f"från 20 verksamheter och underlaget 10 oktober 2023 (slutlig sammanställning) 3{NBSP}070 "
        "ärenden från 34 verksamheter."
    )
    assert (
        f"ändrades nyckelandelarna med högst 3{NBSP}procentenheter; störst var ändringen för andelen ärenden med "
        f"hedersrelaterat våld (12{NBSP}procent mot 15{NBSP}procent)"
    ) in text
    assert (
        f"I den slutliga sammanställningen var andelen kvinnor 94{NBSP}procent och andelen ärenden med "
        f"hedersrelaterat våld 15{NBSP}procent. Enligt {PREVIOUS[:1].lower() + PREVIOUS[1:]} var motsvarande "
        f"andelar 91{NBSP}procent och 15{NBSP}procent; de värdena är hämtade ur den tidigare rapporten"
    ) in text
    assert "%" not in text and "2023-" not in text
    assert "inte prövats statistiskt" in text


def test_text_without_previous_values_or_interim_round(shares):
    final_only = shares.filter(pl.col("round") == FINAL)
    text = trend_report.trend_text(final_only)
    assert text == ""  # nothing to compare, nothing claimed
    same = shares.filter(pl.col("round").is_not_null() & (pl.col("measure") == "share_women"))
    assert "var nyckelandelarna desamma, avrundade till hela procent" in trend_report.trend_text(same)


def test_table_marks_the_previous_report_and_formats_the_swedish_way(shares):
    table = trend_report.trend_table(shares)
    lines = table.splitlines()
    assert lines[0] == "| Mått | Underlag | Antal | Bas (N) | Andel | 95 % konfidensintervall |"
    assert f"| Andel kvinnor | {PREVIOUS}\\* | – | – | {pct(91)} | – |" in lines
    assert (
        f"|  | Slutlig sammanställning 2023-10-10 | 2{NBSP}858 | 3{NBSP}048 | {pct(94)} | {pct(93)}–{pct(95)} |"
    ) in lines
    assert lines[-1].startswith(": Nyckelandelar per insamlingsomgång")
    assert f"\\* {PREVIOUS}: värdet är hämtat ur den tidigare rapporten" in lines[-1]


def test_block_has_numbered_figure_alt_text_and_csv_link(shares):
    block = trend_report.trend_block(shares, "figures/trend.png", "tables/trend.csv")
    assert block.startswith(
        "![Figur 3: Nyckelandelar per insamlingsomgång och i den tidigare rapporten]"
        '(figures/trend.png){#figur-trend fig-alt="Figur: '
    )
    assert "Diagram" not in block
    assert f"Andel kvinnor: {pct(91)} i {PREVIOUS} (uppgift ur rapporten), {pct(94)} i Preliminär" in block
    assert '[Ladda ner tabellen som CSV](tables/trend.csv){.csv-download download="trend.csv"}' in block


def test_figure_labels_the_previous_report_and_is_deterministic(shares, rounds, tmp_path):
    plot = trend_report.trend_figure(shares, rounds)
    first = figures.save_figure(plot, tmp_path / "a.png", tmp_path / "a.svg")
    second = figures.save_figure(trend_report.trend_figure(shares, rounds), tmp_path / "b.png", tmp_path / "b.svg")
    assert first[0].read_bytes() == second[0].read_bytes()
    svg = first[1].read_text(encoding="utf-8")
    for text in (
        f"{PREVIOUS} (uppgift ur rapporten)",
        "Slutlig sammanställning 2023-10-10",
        "hämtade ur den tidigare rapporten",
        pct(91),
        f"3{NBSP}070 (2023-10-10)",
    ):
        assert text in svg, text
    colours = trend_report._colours(shares)
    assert colours[f"{PREVIOUS} (uppgift ur rapporten)"] == trend_report.PREVIOUS_COLOUR
    assert colours["Slutlig sammanställning 2023-10-10"] == figure_style.PALETTE[0]


def test_the_unit_reports_bars_keep_the_order_colours_and_marks_of_hidden_shares(shares, rounds):
    """trend_bars: the sources in chronological order as groups (previous report first),
    each with its colour; a share the protection hid is a hidden cell with its reason."""
    hidden_final = (pl.col("measure") == "share_hrv") & (pl.col("round") == FINAL)
    protected = shares.with_columns(
        pl.when(hidden_final).then(None).otherwise(pl.col("share")).alias("share"),
        pl.when(hidden_final).then(pl.lit("under_troskel")).otherwise(None).alias("hidden_reason"),
    )
    bars = trend_report.trend_bars(protected.reverse(), rounds)  # row order does not decide the groups'
    table = bars["table"]
    groups = table["group"].unique(maintain_order=True).to_list()
    assert groups == [
        f"{PREVIOUS} (uppgift ur rapporten)",
        "Preliminär sammanställning 2023-05-15",
        "Slutlig sammanställning 2023-10-10",
    ]
    assert bars["colours"] == [trend_report._colours(shares)[g] for g in groups]
    assert bars["colours"][0] == trend_report.PREVIOUS_COLOUR
    cell = table.filter((pl.col("group") == groups[2]) & pl.col("category").str.contains("heders")).row(0, named=True)
    assert cell["suppressed"] and cell["hidden_reason"] == "under_troskel" and cell["share"] is None
    assert table.filter(pl.col("suppressed")).height == 1
    assert bars["n_label"].startswith("Antal ärenden per omgång") and "tidigare rapporten" in bars["notes"][0]
    fig = comparison_figure.layout(title="T", **bars)
    assert [t.text for t in fig.texts("mark")] == ["<5"]
    assert sorted(r.value for r in fig.rects("bar")) == sorted(protected["share"].drop_nulls())


def test_book_has_the_section_only_with_a_trend_table(shares, rounds, demo_book, tmp_path):
    inputs = report_inputs()
    with_trend = build_book(tmp_path / "a", **book_kwargs(inputs), trend=shares, trend_rounds=rounds)
    chapter = next(p for p in with_trend if p.name == "01-inledning.qmd").read_text(encoding="utf-8")
    assert "## Insamlingsomgångar och tidigare rapport {#sec-omgangar}" in chapter
    assert "Figur 3 och tabellen nedan visar två nyckelandelar" in chapter
    assert trend_report.trend_text(shares, rounds) in chapter
    assert (tmp_path / "a" / "tables" / "trend.csv").read_text(encoding="utf-8").startswith("measure,label,source")
    # its words ("högst", "störst") are a claim of the ledger, checked against its numbers
    ledger = json.loads((tmp_path / "a" / CLAIMS_FILE).read_text(encoding="utf-8"))
    rounds_claim = next(e for e in ledger if e["kind"] == "rounds")
    assert rounds_claim["claim"]["changes"][0]["points"] == 3 and "störst" in rounds_claim["words"]
    check_ledger([rounds_claim], inputs)
    assert words_outside_claims({"01-inledning.qmd": chapter}, ledger) == []
    assert "sec-omgangar" not in next(p for p in demo_book.paths if p.name == "01-inledning.qmd").read_text(
        encoding="utf-8"
    )


def test_the_unit_reports_rounds_figure_marks_a_small_count_by_the_configured_threshold(shares, tmp_path):
    """A share hidden as under the threshold shows ``<3`` when the threshold is 3."""
    from kvinnofrid.reporting import unit_report

    small = (pl.col("measure") == "share_hrv") & (pl.col("round") == FINAL)
    protected = shares.with_columns(
        pl.when(small).then(None).otherwise(pl.col("share")).alias("share"),
        pl.when(small).then(pl.lit("under_troskel")).otherwise(None).alias("hidden_reason"),
    )
    (tmp_path / "tables").mkdir()
    assert unit_report._trend_block(tmp_path, protected, 19, threshold=3) is not None
    svg = (tmp_path / "figures" / "trend.svg").read_text(encoding="utf-8")
    assert ">&lt;3<" in svg and "&lt;5" not in svg
    assert "&lt;3: färre än 3 ärenden" in svg


def test_with_one_round_the_chapter_speaks_of_that_round_and_compares_nothing(shares):
    several = trend_report.trend_context(shares)
    assert several["lead"].startswith("vid varje insamlingsomgång (") and " och " in several["lead"]
    assert "Jämförelsen mellan omgångarna" in several["note"]
    one = trend_report.trend_context(shares.filter(pl.col("round").is_null() | (pl.col("round") == FINAL)))
    assert one["n_rounds"] == 1
    assert one["lead"] == f"vid insamlingsomgången ({one['rounds_text'][0]})"
    assert one["note"] == ""
