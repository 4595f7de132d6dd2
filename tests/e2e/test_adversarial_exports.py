"""An export from every one of the 290 municipalities through the workflow's stages: 290
units (the adversarial single files are in tests/unit/stages/test_adversarial_exports.py).
The files are found, read and cleaned as rule ``clean`` does it, in one pooled batch
(``rawfiles.discover``, ``pooled.clean_files``), then compiled."""

from __future__ import annotations

import polars as pl
import pytest
from support.adversarial_corpus import (
    BASE_HEADER,
    H_MUNICIPALITY,
    KEY,
    PERIOD,
    base_rows,
    round_path,
)
from support.export_builders import csv_bytes

from kvinnofrid.spec.municipalities import load_register
from kvinnofrid.stages import pooled, rawfiles
from kvinnofrid.stages.batches import CleanSettings
from kvinnofrid.stages.compile import compile_cases

# ------------------------------------------- all 290 municipalities, each its own unit


@pytest.mark.e2e
def test_an_export_from_every_one_of_the_290_municipalities_compiles_to_290_units(tmp_path):
    register = load_register()
    for i, name in enumerate(register["kommun"].to_list()):
        rows = [list(r) for r in base_rows()]
        for row in rows:
            row[BASE_HEADER.index(H_MUNICIPALITY)] = (
                name.upper() if i % 3 == 0 else f"{name} kommun" if i % 3 == 1 else name
            )
        path = round_path(tmp_path, f"export {i:03d}.csv")
        path.write_bytes(csv_bytes(BASE_HEADER, rows))
    files = rawfiles.discover(tmp_path)
    assert len(files) == 290
    cleaned = pooled.clean_files(files, CleanSettings(PERIOD, "fail", KEY))
    cases, _, warnings = compile_cases(cleaned, cutoff=files[0].round_date, register_names=register["kommun"].to_list())
    units = cases.group_by("unit").len()
    assert units.height == 290 and set(units["len"]) == {3}
    assert sorted(units["unit"]) == sorted(register["kommun"])  # shown by the register's names
    assert {"Håbo", "Habo"} <= set(units["unit"])
    assert warnings.filter(pl.col("rule") == "municipality_not_in_register").height == 0
