"""Every demo unit report's text: no sentence is about a hidden category or calls a zero
the largest (the sentences on hand-made frames are in tests/unit/reporting/test_area_text.py)."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from support.paths import ROOT
from support.sentences import quoted

from kvinnofrid.disclosure import area_tables as at
from kvinnofrid.reporting import area_text
from kvinnofrid.reporting.area_text import summary_sentence

# ------------------------------------------------------------------ every demo report's text


@pytest.fixture(scope="module")
def unit_tables(pipeline_run):
    from support.workflow import run_snakemake

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
