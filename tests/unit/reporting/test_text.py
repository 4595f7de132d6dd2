"""The text stage (kvinnofrid.reporting.text and book): words follow the tables and the
passages' families, Bilaga 2 follows the codebook, text files follow the registry,
errors name the template."""

from __future__ import annotations

import json
import re
import shutil

import polars as pl
import pytest
from support.report_inputs import REPORT_SRC, book_kwargs, report_inputs

from kvinnofrid.reporting.book import CLAIMS_FILE, build_book
from kvinnofrid.reporting.numfmt import NBSP
from kvinnofrid.reporting.text import TextError, check_output
from kvinnofrid.spec import codebook
from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.statistics.participants import match_participants
from kvinnofrid.statistics.stats import STATS_SCHEMA

CB = codebook.load()
REG = load_registry()
VERY_SEVERE = CB["violence_severity"].label_of(3)


@pytest.fixture(scope="module")
def inputs():
    return report_inputs()


def chapter(paths, name: str) -> str:
    return next(p for p in paths if p.name == name).read_text(encoding="utf-8")


def hrv_stats(p_value: float | None, share_a: float = 0.369, share_b: float = 0.182) -> pl.DataFrame:
    """One comparison row: very severe violence, HRV against the other cases."""
    row = dict.fromkeys(STATS_SCHEMA.names())
    row.update(
        comparison="hrv",
        variable="violence_severity",
        category=VERY_SEVERE,
        group_a="HRV",
        group_b="Ej HRV",
        n_a=round(share_a * 298),
        denominator_a=298,
        share_a=share_a,
        n_b=round(share_b * 2369),
        denominator_b=2369,
        share_b=share_b,
        difference=share_a - share_b,
        difference_low=share_a - share_b - 0.06,
        difference_high=share_a - share_b + 0.06,
        test=None if p_value is None else "chi2",
        p_value=p_value,
        p_holm=p_value,
        significant=None if p_value is None else p_value < 0.05,
    )
    return pl.DataFrame([row], schema=STATS_SCHEMA)


def swapped_sex(table: pl.DataFrame) -> pl.DataFrame:
    """Diagram 2 with the two rows' numbers exchanged: men the majority."""
    return table.with_columns(pl.col(c).reverse() for c in ("n", "share", "ci_low", "ci_high"))


def test_the_sex_sentence_follows_the_table(inputs, demo_book, tmp_path):
    first = demo_book.paths
    tables = {**inputs.tables, 2: swapped_sex(inputs.tables[2])}
    second = build_book(tmp_path / "b", **book_kwargs(inputs, tables=tables))
    women = round(inputs.tables[2]["share"][0] * 100)
    for name in ("00-sammanfattning.qmd", "02-resultat.qmd"):
        assert f"De flesta klienterna ({women}{NBSP}procent) var kvinnor" in chapter(first, name)
        assert f"De flesta klienterna ({women}{NBSP}procent) var män" in chapter(second, name)
        assert "var kvinnor och" not in chapter(second, name)
    # the men section says the men are a majority, not a minority
    assert "Männen var en majoritet av klienterna" in chapter(second, "02-resultat.qmd")
    assert "Männen var en minoritet av klienterna" in chapter(first, "02-resultat.qmd")


@pytest.mark.parametrize(
    "p_value, verdict",
    [(0.001, "är statistiskt säkerställd"), (0.2, "är inte statistiskt säkerställd"), (None, "inte kunnat prövas")],
)
def test_significance_wording_follows_the_passage_family(inputs, tmp_path, p_value, verdict):
    paths = build_book(tmp_path, **book_kwargs(inputs, stats=hrv_stats(p_value)))
    results = chapter(paths, "02-resultat.qmd")
    numbers = f"37{NBSP}procent"
    assert numbers in results and f"18{NBSP}procent" in results
    assert verdict in results
    # a large difference that is not significant is never called small
    assert "liten" not in results.split("## Vilket våld")[1].split("## Hur ser")[0]
    assert "slumpen" not in results and "statistiskt säker." not in results
    if p_value == 0.001:
        assert "var högre bland ärendena med hedersrelaterat våld (37" in results
    else:
        assert "var högre" not in results.split("## Vilket våld")[1].split("## Hur ser")[0]


def test_a_large_difference_that_fails_the_family_is_given_with_its_interval(inputs, tmp_path):
    stats = hrv_stats(0.09, share_a=0.26, share_b=0.13)
    results = chapter(build_book(tmp_path, **book_kwargs(inputs, stats=stats)), "02-resultat.qmd")
    assert (
        f"Skillnaden, 13{NBSP}procentenheter (95-procentigt konfidensintervall: 7–19), är inte statistiskt säkerställd."
        in results
    )


def test_the_claims_ledger_is_written_beside_the_book(demo_book):
    ledger = json.loads((demo_book.folder / CLAIMS_FILE).read_text(encoding="utf-8"))
    kinds = {entry["kind"] for entry in ledger}
    assert {"share", "ranking", "difference", "screen", "composition"} <= kinds
    assert all(entry["text"] for entry in ledger if entry["kind"] != "several_units")


def test_bilaga_2_lists_every_variable_and_option_as_a_reader_sees_it(demo_book):
    text = chapter(demo_book.paths, "bilaga-2-variabler.qmd")
    for v in CB.variables:
        assert re.search(rf"^\| {v.suv} \| {re.escape(v.label)}", text, re.MULTILINE), v.label
        for o in v.options:
            assert f"{o.code}. {o.shown}" in text, (v.label, o.label)
    assert "| 20 | Ursprung\\*" in text  # project addition marked
    assert "11. Ingen samverkan\\*" in text
    assert "Kommentar (fritext, ingår inte)" in text
    assert "ange i kommentar" not in text
    for phase in CB.phases.values():
        assert phase in text


def test_strict_undefined_names_the_template(inputs, tmp_path):
    src = tmp_path / "report"
    shutil.copytree(REPORT_SRC, src)
    (src / "01-inledning.qmd.j2").write_text("# Inledning\n\n{{ facts.no_such_fact|fmt_pct }}\n", encoding="utf-8")
    with pytest.raises(TextError, match=r"01-inledning\.qmd\.j2.*no_such_fact"):
        build_book(tmp_path / "bok", **book_kwargs(inputs, report_src=src))


def test_missing_value_or_template_code_in_output_is_refused(inputs, tmp_path):
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
    for bad in ("x {{ y", "värdet nan", "NaN %", "None", "{# en kommentar #}", "slut }}", "{% if"):
        with pytest.raises(TextError):
            check_output("kapitel.qmd", bad)
    check_output("kapitel.qmd", "Annan släkting; finansiering; Nanna {#sec-id}")  # words and anchors are fine


def test_demo_flag_and_quarto_config(inputs, demo_book, tmp_path):
    demo = demo_book.paths
    real = build_book(tmp_path / "real", **book_kwargs(inputs, provenance={**inputs.provenance, "demo": False}))
    assert "simulerade" in chapter(demo, "00-sammanfattning.qmd")
    assert "DEMOVERSION" in chapter(demo, "_quarto.yml")
    assert "simulerade" not in chapter(real, "00-sammanfattning.qmd")
    assert "DEMOVERSION" not in chapter(real, "_quarto.yml")
    config = chapter(real, "_quarto.yml")
    assert "date: '2023-10-10'" in config or "date: 2023-10-10" in config or 'date: "2023-10-10"' in config
    # chapter 3 is the authors': left out while none of its parts is written (test_author_parts.py)
    assert [p.name for p in real][:5] == [
        "index.qmd",
        "00-sammanfattning.qmd",
        "01-inledning.qmd",
        "02-resultat.qmd",
        "bilaga-1-deltagare.qmd",
    ]
    assert "03-lardomar.qmd" not in config
    assert (tmp_path / "real" / "assets" / "kvinnofrid.lua").exists()


def test_authors_placeholder_is_printed_until_replaced(demo_book):
    assert "Platshållartext – ersätts av rapportförfattarna" in chapter(demo_book.paths, "index.qmd")


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


def test_the_lead_of_a_diagram_follows_its_table(inputs, demo_book, tmp_path):
    """Diagram 7's lead names the largest category; make another one the largest."""
    table = inputs.tables[7]
    flipped = table.with_columns(
        share=pl.when(pl.col("category") == VERY_SEVERE).then(0.9).otherwise(pl.col("share") / 10)
    )
    before = chapter(demo_book.paths, "02-resultat.qmd")
    after = chapter(
        build_book(tmp_path / "b", **book_kwargs(inputs, tables={**inputs.tables, 7: flipped})), "02-resultat.qmd"
    )
    assert "Vanligast var att våldet bedömdes som grovt" in before
    assert f"Vanligast var att våldet bedömdes som mycket grovt (90{NBSP}procent" in after


def test_bilaga_3_accounts_for_every_row_of_the_latest_exports(inputs, demo_book):
    text = chapter(demo_book.paths, "bilaga-3-metod.qmd")
    summary = inputs.quality_summary
    read, used = int(summary["rows_read"].sum()), int(summary["rows_used"].sum())
    assert f"lästes\n{read:,} rader: {used:,} användes".replace(",", NBSP) in text.replace(" rader:", " rader:")
    assert f"De använda raderna är rapportens {inputs.facts['cases_total']:,} ärenden".replace(",", NBSP) in text
    # the rules under their Swedish names, never the code's
    assert "Aktualiserat utanför perioden" in text and "opened_outside_period" not in text
    assert "`" not in text.split("## Förbehåll")[0].split("## Kontroll av raderna")[1]
    # every passage's family is listed
    for key in REG.passages:
        title = next((s.title for s in REG.sections if s.id == key), None) or f"Diagram {REG.by_id(key).number}"
        assert f"| {title} |" in text, key


@pytest.mark.parametrize(
    "sizes, expected",
    [
        (
            {"size_class_population": "scb", "size_class_population_year": 2023, "size_class_population_fallback": 0},
            "på SCB:s folkmängd år 2023 (tabell BE0101N1).",
        ),
        (
            {"size_class_population": "scb", "size_class_population_year": 2022, "size_class_population_fallback": 2},
            "För två kommuner\nsom saknas i SCB:s fil",
        ),
        (
            {
                "size_class_population": "register",
                "size_class_population_year": None,
                "size_class_population_fallback": 0,
            },
            "ungefärliga invånartal i projektets kommunregister.",
        ),
    ],
)
def test_bilaga_3_says_what_the_size_classes_rest_on(inputs, tmp_path, sizes, expected):
    text = chapter(build_book(tmp_path, **book_kwargs(inputs, facts={**inputs.facts, **sizes})), "bilaga-3-metod.qmd")
    assert expected in text.replace("bygger\npå", "bygger på").replace("\nsom", "\nsom")
    assert ("SCB:s folkmängd" in text) is (sizes["size_class_population"] == "scb")
    assert ("saknas i SCB:s fil" in text) is bool(sizes["size_class_population_fallback"])


# ---------------------------------------------------------------- text keyed by the registry


def test_every_text_file_belongs_to_a_registry_id_and_every_diagram_has_its_lead():
    texts = {p.name.removesuffix(".md.j2") for p in (REPORT_SRC / "text").glob("*.md.j2")}
    assert texts <= set(REG.text_ids), texts - set(REG.text_ids)
    assert {d.id for d in REG.diagrams} <= texts  # one interpreting lead per diagram
    for key in REG.passages:
        assert f"w.passage('{key}')" in (REPORT_SRC / "text" / f"{key}.md.j2").read_text(encoding="utf-8")


def test_a_text_file_no_registry_id_names_stops_the_build(inputs, tmp_path):
    """A renamed id would silently drop its text: the orphan stops the build instead."""
    src = tmp_path / "report"
    shutil.copytree(REPORT_SRC, src)
    (src / "text" / "kon.md.j2").rename(src / "text" / "konsfordelning.md.j2")
    with pytest.raises(TextError, match=r"konsfordelning\.md\.j2 hör inte till något avsnitt eller diagram"):
        build_book(tmp_path / "bok", **book_kwargs(inputs, report_src=src))


def test_a_passage_whose_text_is_missing_stops_the_build(inputs, tmp_path):
    src = tmp_path / "report"
    shutil.copytree(REPORT_SRC, src)
    (src / "text" / "man.md.j2").unlink()
    with pytest.raises(TextError, match=r"jämförelser \(passages\) för 'man'.*man\.md\.j2 saknas"):
        build_book(tmp_path / "bok", **book_kwargs(inputs, report_src=src))


def test_adding_a_diagram_is_one_registry_entry_and_its_text_file(inputs, tmp_path):
    """A new diagram (Typ av insats) in the section on interventions: one entry in the
    registry, one text file; chapter 2 shows it with its lead, nothing else changes."""
    import copy
    from importlib import resources

    import yaml

    from kvinnofrid.spec.diagrams import from_mapping
    from kvinnofrid.statistics.tables import build_table

    raw = yaml.safe_load(resources.files("kvinnofrid.spec").joinpath("diagrams.yaml").read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    number = len(raw["diagrams"]) + 1
    entry = {"number": number, "id": "typ-av-insats", "title": "Vilken typ av insats gavs?", "section": "insatserna"}
    entry.update(table="single", figure="bar", variables=["decision_type"], multi=False, n_label="N = {n}")
    entry["category"] = {"variable": "decision_type"}
    raw["diagrams"].append(entry)
    registry = from_mapping(raw)
    tables = {**inputs.tables, number: build_table(number, inputs.derived, registry=registry)}
    src = tmp_path / "report"
    shutil.copytree(REPORT_SRC, src)
    (src / "text" / "typ-av-insats.md.j2").write_text("{{ w.most_common('typ-av-insats') }}\n", encoding="utf-8")
    results = chapter(
        build_book(tmp_path / "bok", **book_kwargs(inputs, report_src=src, registry=registry, tables=tables)),
        "02-resultat.qmd",
    )
    assert f"Diagram {number}: Vilken typ av insats gavs?" in results
    section = results.split("## Hur ser insatserna ut?")[1].split("\n## ")[0]
    assert "Vanligast var att insatsen gavs" in section


def test_no_literal_diagram_count_in_the_tests_or_the_docs():
    """The number of diagrams is the registry's: a count written out goes stale."""
    root = REPORT_SRC.parent
    count = re.compile(
        r"\b27 (diagram|national|tabell|tables|diagrams)|diagrams? 1–27|\(NN = 01 … 27\)|range\(1, 28\)"
        r"|\ball 27\b|\bthe 27\b|\balla 27\b|N_DIAGRAMS = 27|`D27`"
    )
    files = [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted((root / "tests").rglob("*.py"))]
    found = [
        (p.name, m.group(0))
        for p in files
        if p.name != "test_text.py"
        for m in count.finditer(p.read_text(encoding="utf-8"))
    ]
    assert found == []
