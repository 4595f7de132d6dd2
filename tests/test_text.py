"""The text stage (kvinnofrid.reporting.text): numbers follow the data, significance wording
follows the stats table, Bilaga 2 follows the codebook, errors name the template."""

from __future__ import annotations

import re
import shutil

import polars as pl
import pytest
from conftest_report import REPORT_SRC, book_kwargs, report_inputs

from kvinnofrid.reporting.numfmt import NBSP
from kvinnofrid.reporting.text import StatsLookup, TextError, build_book, check_output
from kvinnofrid.spec import codebook
from kvinnofrid.statistics.participants import match_participants
from kvinnofrid.statistics.stats import STATS_SCHEMA

VERY_SEVERE = codebook.load()["violence_severity"].label_of(3)


@pytest.fixture(scope="module")
def inputs():
    return report_inputs()


def chapter(paths, name: str) -> str:
    return next(p for p in paths if p.name == name).read_text(encoding="utf-8")


def hrv_stats(p_holm: float | None) -> pl.DataFrame:
    row = dict.fromkeys(STATS_SCHEMA.names())
    row.update(
        comparison="hrv",
        variable="violence_severity",
        category=VERY_SEVERE,
        group_a="HRV",
        group_b="Ej HRV",
        n_a=110,
        denominator_a=298,
        share_a=0.369,
        n_b=431,
        denominator_b=2369,
        share_b=0.182,
        test="chi2",
        p_value=p_holm,
        p_holm=p_holm,
        significant=None if p_holm is None else p_holm < 0.05,
    )
    return pl.DataFrame([row], schema=STATS_SCHEMA)


def test_summary_sentence_follows_share_women(inputs, tmp_path):
    first = build_book(tmp_path / "a", **book_kwargs(inputs))
    changed = {**inputs.facts, "share_women": 0.512, "cases_total": 12345}
    second = build_book(tmp_path / "b", **book_kwargs(inputs, facts=changed))
    a, b = chapter(first, "00-sammanfattning.qmd"), chapter(second, "00-sammanfattning.qmd")
    assert f"94{NBSP}% av ärendena gällde kvinnor" in a
    assert f"51{NBSP}% av ärendena gällde kvinnor" in b and f"94{NBSP}% av ärendena gällde kvinnor" not in b
    assert f"12{NBSP}345 ärenden" in b and f"3{NBSP}070 ärenden" in a
    # the results chapter quotes the same fact
    assert f"51{NBSP}% av ärendena gällde kvinnor" in chapter(second, "02-resultat.qmd")


@pytest.mark.parametrize("p_holm, expected", [(0.001, True), (0.2, False), (None, False)])
def test_significance_wording_only_when_stats_say_so(inputs, tmp_path, p_holm, expected):
    paths = build_book(tmp_path, **book_kwargs(inputs, stats=hrv_stats(p_holm)))
    summary = chapter(paths, "00-sammanfattning.qmd")
    assert f"Andelen med mycket grovt våld var 37{NBSP}% i gruppen HRV och 18{NBSP}% i gruppen Ej HRV" in summary
    assert ("skillnaden är statistiskt säker" in summary) is expected
    results = chapter(paths, "02-resultat.qmd")
    assert (results.count("statistiskt säker") == 1) is expected  # only the one row given
    if not expected:
        assert "statistiskt säker" not in summary


def test_stats_lookup_reads_p_holm():
    lookup = StatsLookup(hrv_stats(0.049))
    assert lookup.significant("hrv", "violence_severity", VERY_SEVERE)
    assert not StatsLookup(hrv_stats(0.05)).significant("hrv", "violence_severity", VERY_SEVERE)
    assert not lookup.significant("hrv", "violence_severity", "Grovt")  # no row
    assert not StatsLookup(None).significant("men", "sex", "Man")
    assert "kunde inte göras" in lookup.compare("men", "sex", "Man", what="män")


def test_bilaga_2_lists_every_variable_and_option(inputs, tmp_path):
    text = chapter(build_book(tmp_path, **book_kwargs(inputs)), "bilaga-2-variabler.qmd")
    cb = codebook.load()
    assert len(cb.variables) == 29
    for v in cb.variables:
        assert re.search(rf"^\| {v.suv} \| {re.escape(v.label)}", text, re.MULTILINE), v.label
        for o in v.options:
            assert f"{o.code}. {o.label}" in text, (v.label, o.label)
    assert "| 20 | Ursprung\\*" in text  # project addition marked
    assert "11. Ingen samverkan\\*" in text
    assert "Kommentar (fritext, ingår inte)" in text
    for phase in cb.phases.values():
        assert phase in text


def test_strict_undefined_names_the_template(inputs, tmp_path):
    src = tmp_path / "report"
    shutil.copytree(REPORT_SRC, src)
    (src / "01-inledning.qmd.j2").write_text("# Inledning\n\n{{ facts.no_such_fact|fmt_pct }}\n", encoding="utf-8")
    with pytest.raises(TextError, match=r"01-inledning\.qmd\.j2.*no_such_fact"):
        build_book(tmp_path / "bok", **book_kwargs(inputs, report_src=src))


def test_missing_value_in_output_is_refused(inputs, tmp_path):
    src = tmp_path / "report"
    shutil.copytree(REPORT_SRC, src)
    (src / "03-lardomar.qmd.j2").write_text(
        "# Lärdomar\n\nVärdet är {{ provenance.missing_value }}.\n", encoding="utf-8"
    )
    with pytest.raises(TextError, match=r"03-lardomar\.qmd.*None"):
        build_book(
            tmp_path / "bok",
            **book_kwargs(inputs, report_src=src, provenance={**inputs.provenance, "missing_value": None}),
        )
    for bad in ("x {{ y", "värdet nan", "NaN %", "None"):
        with pytest.raises(TextError):
            check_output("kapitel.qmd", bad)
    check_output("kapitel.qmd", "Annan släkting; finansiering; Nanna")  # words are fine


def test_demo_flag_and_quarto_config(inputs, tmp_path):
    demo = build_book(tmp_path / "demo", **book_kwargs(inputs))
    real = build_book(tmp_path / "real", **book_kwargs(inputs, provenance={**inputs.provenance, "demo": False}))
    assert "simulerade" in chapter(demo, "00-sammanfattning.qmd")
    assert "DEMOVERSION" in chapter(demo, "_quarto.yml")
    assert "simulerade" not in chapter(real, "00-sammanfattning.qmd")
    assert "DEMOVERSION" not in chapter(real, "_quarto.yml")
    config = chapter(real, "_quarto.yml")
    assert "date: '2023-10-10'" in config or "date: 2023-10-10" in config or 'date: "2023-10-10"' in config
    assert [p.name for p in real][:5] == [
        "index.qmd",
        "00-sammanfattning.qmd",
        "01-inledning.qmd",
        "02-resultat.qmd",
        "03-lardomar.qmd",
    ]
    assert (tmp_path / "real" / "assets" / "kvinnofrid.lua").exists()


def test_authors_text_is_inserted_verbatim(inputs, tmp_path):
    paths = build_book(tmp_path, **book_kwargs(inputs))
    lessons = (REPORT_SRC / "forfattare" / "lardomar.md").read_text(encoding="utf-8").strip()
    assert lessons in chapter(paths, "03-lardomar.qmd")
    assert "Platshållartext – ersätts av rapportförfattarna" in chapter(paths, "index.qmd")


def test_participants_matched_by_kommun_name():
    participants = pl.read_csv(REPORT_SRC / "deltagare-2021-2023.csv")
    assert participants.height == 47
    units = pl.DataFrame(
        {
            "municipality": [
                "Enskede-Årsta-Vantör",
                "Stockholm",
                "Sigtuna (Myndighet)",
                "sigtuna (Utförare)",
                "KARLSKOGA",
            ]
        }
    )
    matched = match_participants(participants, units)
    sent = matched.filter(pl.col("sent_data"))
    assert sorted(sent["kommun"].to_list()) == ["Karlskoga", "Sigtuna", "Sigtuna", "Stockholm", "Stockholm"]
    # compile.assign_units shape: one row per file and round
    per_round = pl.DataFrame(
        {
            "round": ["2023-05-15", "2023-10-10", "2023-05-15", "2023-10-10", "2023-10-10"],
            "municipality": ["Stockholm", "Stockholm", "Enskede-Årsta-Vantör", "Enskede-Årsta-Vantör", "Arboga"],
            "unit": ["Stockholm", "Stockholm", "Enskede-Årsta-Vantör", "Enskede-Årsta-Vantör", "Arboga"],
        }
    )
    sent = match_participants(participants, per_round).filter(pl.col("sent_data"))
    assert sorted(sent["enhet"].to_list())[:1] == ["Enskede-Årsta-Vantör, Relationsvåldsteamet"]
    assert sorted(sent["kommun"].to_list()) == ["Arboga", "Stockholm", "Stockholm"]
    only_district = match_participants(participants, pl.DataFrame({"municipality": ["Enskede-Årsta-Vantör"]}))
    row = only_district.filter(pl.col("sent_data")).row(0, named=True)
    assert row["enhet"].startswith("Enskede-Årsta-Vantör")


def test_diagram_paragraph_follows_the_table(inputs):
    from kvinnofrid.reporting.text import describe_table

    table = inputs.tables[7]
    before = describe_table(table, "bar")
    flipped = table.with_columns(
        share=pl.when(pl.col("category") == VERY_SEVERE).then(0.9).otherwise(pl.col("share") / 10)
    )
    after = describe_table(flipped, "bar")
    assert before.startswith(f"Bland de {table['denominator'][0] // 1000}{NBSP}")
    assert f"var \u201d{VERY_SEVERE}\u201d vanligast (90{NBSP}%)" in after
    assert f"\u201d{VERY_SEVERE}\u201d vanligast" not in before


@pytest.mark.parametrize(
    "sizes, expected",
    [
        (
            {"size_class_population": "scb", "size_class_population_year": 2023, "size_class_population_fallback": 0},
            "bygger på SCB:s folkmängd år 2023\n(tabell BE0101N1).",
        ),
        (
            {"size_class_population": "scb", "size_class_population_year": 2022, "size_class_population_fallback": 2},
            "För\n2 kommuner\nsom saknas i SCB:s fil",
        ),
        (
            {
                "size_class_population": "register",
                "size_class_population_year": None,
                "size_class_population_fallback": 0,
            },
            "bygger på ungefärliga invånartal i projektets kommunregister.",
        ),
    ],
)
def test_bilaga_3_says_what_the_size_classes_rest_on(inputs, tmp_path, sizes, expected):
    text = chapter(build_book(tmp_path, **book_kwargs(inputs, facts={**inputs.facts, **sizes})), "bilaga-3-metod.qmd")
    assert expected in text
    assert ("SCB:s folkmängd" in text) is (sizes["size_class_population"] == "scb")
    assert ("saknas i SCB:s fil" in text) is bool(sizes["size_class_population_fallback"])
