"""The sentences of the comparison reports (kvinnofrid.reporting.area_text): on tiny
hand-made tables, and over the text of every demo unit's and län's published report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from kvinnofrid.disclosure import area_tables as at
from kvinnofrid.reporting import area_text
from kvinnofrid.reporting.area_text import summary_sentence
from kvinnofrid.reporting.numfmt import NBSP

ROOT = Path(__file__).resolve().parents[1]

PCT = NBSP + "%"


def comparison(own: list[tuple[str, int | None]], n_total: int | None, riket: list[int] | None = None) -> pl.DataFrame:
    """A comparison table of area A (and Riket): (category, n or None = hidden)."""
    rows = []
    for category, n in own:
        share = None if n is None or not n_total else n / n_total
        rows.append(("A", category, n, n_total, share, n is None))
    for (category, _), n in zip(own, riket or [], strict=False):
        rows.append(("Riket", category, n, sum(riket), n / sum(riket), False))
    return pl.DataFrame(
        rows,
        schema={
            "group": pl.String,
            "category": pl.String,
            "n": pl.Int64,
            "denominator": pl.Int64,
            "share": pl.Float64,
            "suppressed": pl.Boolean,
        },
        orient="row",
    )


def quoted(sentence: str) -> list[str]:
    return re.findall(r"”([^”]+)”", sentence)


def test_nothing_hidden_names_the_largest_with_the_others():
    table = comparison([("x", 4), ("y", 16)], 20, riket=[40, 60])
    assert (
        summary_sentence(table, "A", ["A", "Riket"], single=True)
        == f"Störst andel i A har kategorin ”y” med 80{PCT} (Riket: 60{PCT})."
    )


def test_a_hidden_category_is_never_named_and_its_share_is_said_to_be_hidden():
    table = comparison([("stor", 12), ("dold kategori", None), ("liten", 5)], 20)
    text = summary_sentence(table, "A", ["A"], single=True, threshold=5)
    assert "dold kategori" not in text
    # the hidden rows hold 3 cases < 12: "stor" is the largest for certain
    assert text.startswith(f"Störst andel i A har kategorin ”stor” med 60{PCT}")
    assert "Andelen för en kategori visas inte eftersom den bygger på färre än 5 ärenden" in text


def test_the_largest_shown_is_not_called_largest_when_a_hidden_one_could_be_larger():
    table = comparison([("a", 8), ("b", None), ("c", None), ("d", 7)], 25)  # 10 hidden cases > 8
    text = summary_sentence(table, "A", ["A"], single=True)
    assert "Störst andel" not in text
    assert text.startswith(f"Av de andelar som visas för A är den för ”a” störst, 32{PCT}")
    assert "Andelarna för två kategorier visas inte" in text
    multi = comparison([("a", 8), ("b", None), ("c", 7), ("d", 6)], 25)  # multi: shares do not sum
    assert "Störst andel" not in summary_sentence(multi, "A", ["A"], single=False)


def test_a_zero_share_is_never_called_the_largest():
    table = comparison([("a", 0), ("b", 0), ("c", 20)], 20)
    table = table.with_columns(
        pl.when(pl.col("category") == "c").then(None).otherwise(pl.col("n")).alias("n"),
        (pl.col("category") == "c").alias("suppressed"),
    )
    table = table.with_columns(pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("share")).alias("share"))
    text = summary_sentence(table, "A", ["A"], single=False)
    assert "Störst" not in text and "störst" not in text
    assert text.startswith(f"Ingen av de andelar som visas för A är större än 0{PCT}.")


def test_a_mostly_hidden_table_gets_one_sentence_saying_why():
    table = comparison([("a", 9), ("b", None), ("c", None), ("d", None)], 30)  # 21 of 30 cases hidden
    text = summary_sentence(table, "A", ["A"], single=True, threshold=5)
    assert text == (
        "De flesta andelarna för A visas inte eftersom de bygger på färre än 5 ärenden "
        "eller skulle göra det möjligt att räkna fram ett sådant antal."
    )
    everything = comparison([("a", None), ("b", None)], None)
    assert summary_sentence(everything, "A", ["A"], single=True).startswith("Andelarna för A visas inte eftersom")
    # by categories where the hidden cases cannot be told (multi-choice): 3 of 4 hidden
    multi = comparison([("a", 20), ("b", None), ("c", None), ("d", None)], 30)
    assert summary_sentence(multi, "A", ["A"]).startswith("De flesta andelarna för A visas inte")


def test_two_large_shown_categories_are_described_though_most_categories_are_hidden():
    # 3 of 5 categories hidden, but they hold only 9 of 29 cases (the demo's Arboga, ages)
    table = comparison([("18–24", None), ("25–34", 9), ("35–44", 11), ("45–54", None), ("55–", None)], 29)
    assert summary_sentence(table, "A", ["A"], single=True).startswith("Störst andel i A har kategorin ”35–44”")


def test_no_cases_is_not_called_hidden():
    table = comparison([("a", 0), ("b", 0)], 0)
    assert (
        summary_sentence(table, "A", ["A"], single=True)
        == "För A finns inga ärenden i underlaget till det här diagrammet."
    )


def test_pool_notes_name_the_pooled_categories_from_the_registry():
    notes = area_text.pool_notes("8")
    assert notes == ["Övriga: Annan släkting/släktingar, Barn och Annan."]
    assert area_text.pool_notes("2") == [] and area_text.pool_notes(at.TOP_GROUP) == []


# ------------------------------------------------------------------ every demo report's text


@pytest.fixture(scope="module")
def unit_tables(pipeline_run):
    from conftest import run_snakemake

    run_snakemake(pipeline_run.workdir, "--", "interim/kommuner/tables.parquet")
    return pipeline_run


def _texts(run):
    """(area, table id, sentence, the area's protected rows, its true rows) for every
    table of every unit's and län's published report, built as the reports build them."""
    import yaml

    from kvinnofrid.reporting import unit_report as ur

    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    diagrams = [int(n) for n in config["unit_reports"]["diagrams"]]
    threshold = int(config["suppression_threshold"])
    every = json.loads((run.interim / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    long = pl.read_parquet(run.interim / "kommuner" / "tables.parquet")
    derived = pl.read_parquet(run.interim / "cases_derived.parquet")
    areas = [at.Area(a["kind"], a["name"], a["slug"], tuple(a["units"])) for a in every]
    truth = at.area_tables(derived, areas, diagrams)
    for info in (a for a in every if a["kind"] in ("enhet", "lan")):
        compared = ur._compared(info, every)
        names = ur._display_names(compared)
        for table_id in at.table_ids(diagrams):
            table = at.comparison_table(long, table_id, compared).with_columns(
                pl.col("group").replace_strict(names, return_dtype=pl.String)
            )
            sentence = summary_sentence(
                table,
                info["name"],
                [names[a.name] for a in compared],
                threshold=threshold,
                single=at.table_kind(table_id) in ("single", "histogram", "flag"),
            )
            yield (
                info["name"],
                table_id,
                sentence,
                table.filter(pl.col("group") == info["name"]),
                truth[table_id][info["name"]],
            )


@pytest.mark.e2e
def test_no_report_sentence_is_about_a_hidden_category_or_calls_zero_the_largest(unit_tables):
    described = said_hidden = 0
    for area, table_id, sentence, own, true in _texts(unit_tables):
        where = f"{area}, tabell {table_id}: {sentence}"
        hidden = set(own.filter(pl.col("suppressed"))["category"].to_list())
        assert not hidden & set(quoted(sentence)), where
        assert not re.search(r"(Störst|störst)[^.]*\b0\u00a0%", sentence), where
        match = re.match(r"Störst andel i .+? har kategorin ”(.+?)”", sentence)
        if match:  # the largest in the true, unprotected table too
            described += 1
            assert true.filter(pl.col("category") == match[1])["n"][0] == true["n"].max(), where
        if own["suppressed"].any():
            said_hidden += 1
            assert "visas inte eftersom" in sentence, where
        if sentence.startswith("De flesta"):  # one sentence, no description
            hidden_rows = own.filter(pl.col("suppressed").fill_null(False) | pl.col("share").is_null())
            reasons = hidden_rows["hidden_reason"].to_list() if "hidden_reason" in own.columns else []
            assert (
                sentence
                == f"De flesta andelarna för {area} visas inte eftersom {area_text.hidden_reason(5, True, reasons)}."
            )
    assert described > 50 and said_hidden > 50
