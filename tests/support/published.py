"""What the tests of the published documents share (tests/e2e/conftest.py's fixtures
``mapped`` and ``quarto_out``, test_publishing_e2e.py, test_quarto_e2e.py): the unit whose
reports they render, and real Quarto."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kvinnofrid.reporting.render import quarto_path

UNIT = "arboga"  # a small unit: its reports in both editions


def quarto_or_skip() -> str:
    """The quarto binary; skip without it, or fail with KVINNOFRID_REQUIRE_QUARTO=1 (CI),
    where a real-Quarto test that did not run is a failed test."""
    found = quarto_path()
    if found and (Path(found).is_file() or shutil.which(found)):
        return found
    message = "Quarto finns varken i QUARTO_PATH eller på PATH"
    if os.environ.get("KVINNOFRID_REQUIRE_QUARTO") == "1":
        pytest.fail(f"{message}, men KVINNOFRID_REQUIRE_QUARTO=1: testerna med riktig Quarto måste köras")
    pytest.skip(message)
