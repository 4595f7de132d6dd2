"""The e2e tests' personal-data scan (tests/support/privacy.py) finds what it looks for:
a needle inside one cell of a parquet file, inside a line of a log, and nothing where
there is none."""

from __future__ import annotations

import re

import polars as pl
import pytest
from support.privacy import scan_for_personal_data


def test_the_scan_finds_a_needle_in_one_cell_of_thousands_and_in_a_log(tmp_path):
    clean = tmp_path / "clean"
    clean.mkdir()
    cells = [f"ärende {i}" for i in range(5000)]
    pl.DataFrame({"text": cells}).write_parquet(clean / "cases.parquet")
    (clean / "run.log").write_text("inget personligt här\n", encoding="utf-8")
    assert scan_for_personal_data([clean], {"K0042", "HDL07"}) == 2

    leaky = tmp_path / "leaky"
    leaky.mkdir()
    pl.DataFrame({"text": [*cells[:2500], "klient xK0042y", *cells[2500:]]}).write_parquet(leaky / "cases.parquet")
    with pytest.raises(AssertionError, match=re.escape("cases.parquet contains ['K0042']")):
        scan_for_personal_data([leaky], {"K0042", "HDL07"})
    (leaky / "cases.parquet").unlink()
    (leaky / "run.log").write_text("handläggare HDL07 loggade\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=re.escape("run.log contains ['HDL07']")):
        scan_for_personal_data([leaky], {"K0042", "HDL07"})
