"""The whole national text on the demo data and on four data sets whose answers differ
from the demo's (tests/conftest_report.py VARIANTS): every claim is checked against the
tables it came from, every data-dependent word stands in a claim, and the prose
follows Språkrådet's rules (tests/claim_checks.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from claim_checks import check_ledger, check_prose, check_reader_text, words_outside_claims
from conftest_report import book_kwargs, protected_groups, report_inputs, variant_inputs, with_size_comparisons

from kvinnofrid.reporting.book import CLAIMS_FILE, build_book
from kvinnofrid.reporting.numfmt import NBSP

DATASETS = ["demo", "men-and-old", "few-interventions", "shuffled", "two-units"]


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The whole text of a data set, built once per module on first use."""
    built: dict[str, SimpleNamespace] = {}

    def book_for(name: str) -> SimpleNamespace:
        if name not in built:
            inputs = report_inputs() if name == "demo" else variant_inputs(name)
            # with the results by municipality size, from the protected tables
            published, areas = protected_groups(inputs)
            inputs = with_size_comparisons(inputs, published)
            folder = tmp_path_factory.mktemp(name)
            paths = build_book(folder, **book_kwargs(inputs, comparison=published, areas=areas))
            built[name] = SimpleNamespace(
                name=name,
                inputs=inputs,
                ledger=json.loads((folder / CLAIMS_FILE).read_text(encoding="utf-8")),
                chapters={p.name: p.read_text(encoding="utf-8") for p in paths if p.suffix == ".qmd"},
            )
        return built[name]

    return book_for


@pytest.fixture(params=DATASETS)
def book(request, books):
    return books(request.param)


def test_every_claim_agrees_with_its_table(book):
    assert len(book.ledger) > 40
    check_ledger(book.ledger, book.inputs)


def test_every_claim_is_in_the_text(book):
    text = "\n".join(book.chapters.values())
    for entry in book.ledger:
        for line in entry["text"].splitlines():
            assert line in text, line


def test_every_data_word_stands_in_a_claim(book):
    assert words_outside_claims(book.chapters, book.ledger) == []


def test_the_prose_follows_the_swedish_rules(book):
    for name, text in book.chapters.items():
        check_prose(name, text)
        check_reader_text(name, text)


def test_men_and_the_oldest_lead_where_they_are_the_most(books):
    book = books("men-and-old")
    summary = book.chapters["00-sammanfattning.qmd"]
    first = summary.split("## Vilka får stöd?")[1].split("\n- ")[1]
    assert first.startswith("De flesta klienterna") and "var män" in first
    results = book.chapters["02-resultat.qmd"]
    assert "Männen var en majoritet av klienterna" in results
    assert "Vanligast var att klienten var 75 år eller äldre" in results
    # the demo's findings are not there
    assert "var kvinnor och" not in results and "Männen var en minoritet" not in results


def test_few_interventions_is_said_as_a_share_not_a_majority(books):
    book = books("few-interventions")
    share = book.inputs.facts["share_with_intervention"]
    results = book.chapters["02-resultat.qmd"]
    assert f"Klienten fick minst en insats i {round(share * 100)}{NBSP}procent av ärendena" in results
    assert "Vanligast var att klienten var född utanför Europa" in results
    assert "minst en insats i de flesta" not in results


def test_the_drop_out_paragraph_says_so_when_nothing_differs(books):
    section = books("shuffled").chapters["02-resultat.qmd"].split("## Vad tycker klienterna?")[1].split("\n## ")[0]
    assert "Ingen av de" in section and "visade någon statistiskt säkerställd skillnad" in section


def test_the_drop_out_paragraph_reports_the_differences_of_the_demo(books):
    section = books("demo").chapters["02-resultat.qmd"].split("## Vad tycker klienterna?")[1].split("\n## ")[0]
    assert "visade en statistiskt säkerställd skillnad" in section or "visade fem en statistiskt" in section
    assert "våldet bedömdes som mycket grovt var lägre bland dem som besvarade brukarenkäten" in section


def test_small_bases_are_given_as_counts_with_a_caveat(books):
    book = books("two-units")
    small = [e for e in book.ledger if e["claim"].get("small")]
    assert small and all("underlaget är" in e["text"] for e in small)
