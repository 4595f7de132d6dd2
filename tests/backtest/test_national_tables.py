"""Back-test: the default run on the shipped demo exports publishes exactly the frozen
national tables and facts (tests/expected/, written by `kvinnofrid freeze-tables`)."""

from __future__ import annotations

import json

import polars as pl
from support.paths import EXPECTED

from kvinnofrid.spec.diagrams import load_registry


def test_facts_and_tables_come_out_of_the_default_run(pipeline_run):
    facts = json.loads((pipeline_run.results / "facts.json").read_text(encoding="utf-8"))
    assert facts["cases_total"] == 3070
    for d in load_registry().diagrams:
        assert (pipeline_run.results / "tables" / f"{d.slug}.csv").is_file()
        assert (pipeline_run.results / "figures" / f"{d.slug}.svg").is_file()


def test_every_table_and_the_facts_match_the_frozen_expected_files(pipeline_run):
    """Back-test: every published table of the demo run equals its frozen copy.
    A deliberate change is frozen anew with `kvinnofrid freeze-tables` and reviewed
    in the diff; an accidental one fails here, naming the diagram and the rows."""
    for d in load_registry().diagrams:
        name = f"{d.slug}.csv"
        got = (pipeline_run.results / "tables" / name).read_bytes()
        want = (EXPECTED / "tables" / name).read_bytes()
        if got != want:
            frames = [pl.read_csv(b, infer_schema=False) for b in (got, want)]
            diff = pl.concat(
                [
                    frames[0].join(frames[1], on=frames[0].columns, how="anti").with_columns(pl.lit("nu").alias("_")),
                    frames[1]
                    .join(frames[0], on=frames[0].columns, how="anti")
                    .with_columns(pl.lit("fryst").alias("_")),
                ]
            )
            raise AssertionError(f"{name} differs from tests/expected:\n{diff}")
    got = json.loads((pipeline_run.results / "facts.json").read_text(encoding="utf-8"))
    want = json.loads((EXPECTED / "facts.json").read_text(encoding="utf-8"))
    assert got == want
