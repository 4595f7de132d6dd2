"""Results by municipality size (kvinnofrid.disclosure.size_results, reporting.by_size,
section storlek): the key shares of the published size classes or comparison groups,
read from the protected tables, hidden cells shown with their marks, every comparison
with the rest of the country tested in one family and its words chosen from the
numbers, and a clear sentence where no class can be shown.

The tables are protected in process (area_tables.protect, as rule unit_tables does) on
data whose answers differ from the demo's (conftest_report.VARIANTS)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from support.report_inputs import book_kwargs, protected_groups, report_inputs, variant_inputs

from kvinnofrid.disclosure import size_results
from kvinnofrid.reporting import by_size
from kvinnofrid.reporting.book import CLAIMS_FILE, build_book
from kvinnofrid.reporting.swedish import shown_percent
from kvinnofrid.spec.diagrams import SIZE_PASSAGE, load_registry

REG = load_registry()


def section(paths) -> str:
    text = next(p for p in paths if p.name == "02-resultat.qmd").read_text(encoding="utf-8")
    return text[text.index("{#sec-storlek}") : text.index("{#sec-hrv}")]


def size_claims(folder) -> list[dict]:
    ledger = json.loads((folder / CLAIMS_FILE).read_text(encoding="utf-8"))
    return [c for c in ledger if c["kind"] == "screen" and c["claim"]["family"][0]["passage"] == SIZE_PASSAGE]


@pytest.fixture(scope="module")
def men_and_old():
    return variant_inputs("men-and-old")


@pytest.fixture(scope="module")
def size_books(tmp_path_factory):
    """The book of a variant with its protected size classes, built once per module on
    first use (several tests read the same variant's book): (folder, paths)."""
    built: dict[str, tuple] = {}

    def book_for(variant: str) -> tuple:
        if variant not in built:
            inputs = variant_inputs(variant)
            published, areas = protected_groups(inputs)
            folder = tmp_path_factory.mktemp(variant)
            built[variant] = (folder, build_book(folder, **book_kwargs(inputs, comparison=published, areas=areas)))
        return built[variant]

    return book_for


def test_measure_rows_keep_hidden_cells_hidden_and_follow_the_tables(men_and_old):
    published, _ = protected_groups(men_and_old)
    rows = size_results.measure_rows(published, REG)
    assert set(rows["area_kind"]) == {"riket", "storleksklass"}
    assert rows["measure"].unique(maintain_order=True).to_list() == [m.heading for m in REG.size_measures]
    for r in rows.iter_rows(named=True):
        source = published.filter(
            (pl.col("area") == r["area"])
            & (pl.col("table") == str(REG.by_id(r["diagram"]).number))
            & (pl.col("category") == r["category"])
        ).row(0, named=True)
        assert (r["n"], r["denominator"], bool(r["suppressed"])) == (
            source["n"],
            source["denominator"],
            bool(source["suppressed"]),
        )
    # on this data the men are the majority (the demo: 6 %)
    country = rows.filter((pl.col("area_kind") == "riket") & (pl.col("measure") == "Män")).row(0, named=True)
    assert country["share"] > 0.5


def test_each_class_is_compared_with_the_rest_of_the_country_from_published_numbers(men_and_old):
    published, _ = protected_groups(men_and_old)
    rows = size_results.measure_rows(published, REG)
    compared = size_results.comparison_rows(rows, "Övriga")
    assert compared.height > 0
    for c in compared.iter_rows(named=True):
        own = rows.filter((pl.col("area") == c["group_a"]) & (pl.col("category") == c["category"])).row(0, named=True)
        whole = rows.filter((pl.col("area_kind") == "riket") & (pl.col("category") == c["category"])).row(0, named=True)
        assert not own["suppressed"]  # a hidden share is never compared
        assert c["n_a"] == own["n"] and c["denominator_a"] == own["denominator"]
        assert c["n_b"] == whole["n"] - own["n"] and c["denominator_b"] == whole["denominator"] - own["denominator"]
        assert c["difference_low"] <= c["difference"] <= c["difference_high"]
    hidden = rows.filter(pl.col("suppressed") & (pl.col("area_kind") != "riket"))
    for r in hidden.iter_rows(named=True):
        assert compared.filter((pl.col("group_a") == r["area"]) & (pl.col("category") == r["category"])).is_empty()


@pytest.mark.parametrize("variant", ["men-and-old", "shuffled"])
def test_the_section_words_follow_the_numbers_in_one_family(variant, size_books):
    published, _ = protected_groups(variant_inputs(variant))
    folder, paths = size_books(variant)
    text = section(paths)
    rows = size_results.measure_rows(published, REG)
    # the table: every class with its shares, or the mark of why a share is hidden
    for r in rows.iter_rows(named=True):
        assert f"| {r['area']} |" in text
    for m in ("<5", "dold"):
        if f"| {m} |" in text or f" {m} |" in text:
            assert f"{m}: " in text  # the mark is explained under the table
    claims = size_claims(folder)
    assert len(claims) == 1
    family = claims[0]["claim"]["family"]
    tested = [d for d in family if d["p_family"] is not None]
    assert claims[0]["claim"]["family_size"] == len(tested) == len(size_results.comparison_rows(rows, "Övriga"))
    for d in family:
        assert d["p_family"] >= d["p_value"]  # Holm within the section's family
        said = f"{shown_percent(d['share_a'])}\u00a0procent mot {shown_percent(d['share_b'])}\u00a0procent"
        if d["significant"]:
            word = "högre" if d["share_a"] > d["share_b"] else "lägre"
            assert said in claims[0]["text"] and word in claims[0]["text"].split(said)[0].rsplit("\n", 1)[-1]
        else:
            assert said not in claims[0]["text"]


def test_a_shuffled_country_has_no_size_difference_to_report(size_books):
    folder, _ = size_books("shuffled")
    claims = size_claims(folder)
    significant = [d for d in claims[0]["claim"]["family"] if d["significant"]]
    if not significant:
        assert "Ingen av de" in claims[0]["text"]
        assert "högre" not in claims[0]["text"] and "lägre" not in claims[0]["text"]


def test_comparison_groups_get_their_own_table_and_words(tmp_path):
    inputs = report_inputs()
    units = sorted(inputs.derived["unit"].unique().to_list())
    groups = {u: ("Storstadskommuner" if i % 2 else "Landsbygdskommuner") for i, u in enumerate(units)}
    published, areas = protected_groups(inputs, groups=groups, with_classes=False)
    paths = build_book(tmp_path, **book_kwargs(inputs, comparison=published, areas=areas))
    text = section(paths)
    assert "| Kommungrupp | Verksam\u00adheter |" in text
    assert "| Landsbygdskommuner |" in text and "| Storstadskommuner |" in text
    assert "Storleksklass" not in text
    assert "för varje kommungrupp" in text
    claims = size_claims(tmp_path)
    assert {d["comparison"] for d in claims[0]["claim"]["family"]} == {"group_area"}
    assert "kommungruppen" in claims[0]["text"] or "Ingen av de" in claims[0]["text"]


@pytest.mark.parametrize(
    ("units_total", "words"), [(2, "från två verksamheter"), (12, "Ingen storleksklass omfattar minst tre")]
)
def test_without_a_published_class_the_section_says_why_and_shows_nothing(tmp_path, units_total, words):
    inputs = variant_inputs("two-units")
    published, areas = protected_groups(inputs)
    assert set(published["area_kind"]) == {"riket"}  # two units: no class of three
    facts = {**inputs.facts, "units_total": units_total}
    paths = build_book(tmp_path, **book_kwargs(inputs, facts=facts, comparison=published, areas=areas))
    text = section(paths)
    assert words in text
    assert "| Riket |" not in text and "prövade jämförelser" not in text
    context = by_size.size_context(size_results.measure_rows(published, REG), areas, units_total, 5)
    assert context["tables"] == [] and context["reason"]


def test_the_downloadable_table_shows_no_hidden_value(size_books):
    folder, _ = size_books("men-and-old")
    csv = pl.read_csv(folder / "tables" / by_size.CSV_NAME)
    hidden = csv.filter(pl.col("dold").is_not_null())
    assert hidden.height > 0
    assert hidden["antal"].null_count() == hidden.height and hidden["andel"].null_count() == hidden.height
    shown = csv.filter(pl.col("dold").is_null() & (pl.col("område") != "Riket"))
    assert (shown["antal"] >= 5).all()
    assert not any("\u00ad" in m for m in csv["nyckeltal"])
    assert ((shown["andel"] > 0) & (shown["andel"] < 1)).all()
    assert (shown["ki_lag"] <= shown["andel"]).all() and (shown["andel"] <= shown["ki_hog"]).all()
