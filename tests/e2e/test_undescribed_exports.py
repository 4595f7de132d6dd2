"""Exports that LibreOffice saved (issue 21): the base export of
tests/unit/stages/test_undescribed_exports.py saved by a real LibreOffice as .ods, as
Excel 97 (.xls) and again as .xlsx. Here, not in the unit tests, because it starts
LibreOffice (three conversions, several seconds): the layout puts a test that starts
LibreOffice in tests/e2e/."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from support.adversarial_corpus import BASE_HEADER, accounting, base_rows, issues, round_path, run, used_column
from support.export_builders import write_xlsx

ALL_USED = (3, 3, 0, 0)
# the hidden sheet of drop-down lists the unit tests put before the export
LISTS = [["Verksamhet (1)", "Kön (14)"], ["Myndighet", "Kvinna"], ["Utförare", "Man"]]


@pytest.fixture(scope="module")
def libreoffice_copies(tmp_path_factory):
    """The base export saved by LibreOffice as .ods and as Excel 97 (.xls), with a
    hidden sheet of lists before it."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.fail("LibreOffice (soffice) is needed to make the .ods and .xls instances")
    folder = tmp_path_factory.mktemp("lo")
    source = write_xlsx(
        folder / "base.xlsx", BASE_HEADER, base_rows(), sheets_before=[("Listor", LISTS)], hidden=["Listor"]
    )
    for fmt, source_file, out in (("ods", source, folder), ("xls", source, folder), ("xlsx", None, folder / "lo")):
        subprocess.run(
            [soffice, "--headless", "--convert-to", fmt, "--outdir", str(out), str(source_file or folder / "base.ods")],
            check=True,
            capture_output=True,
            timeout=180,
        )
    shutil.move(folder / "lo" / "base.xlsx", folder / "base-libreoffice.xlsx")
    return folder


@pytest.mark.parametrize("suffix", [".ods", ".xls", "-libreoffice.xlsx"])
def test_libreoffice_and_excel_97_workbooks(tmp_path, libreoffice_copies, suffix):
    path = round_path(tmp_path, f"export{suffix}")
    shutil.copy(libreoffice_copies / f"base{suffix}", path)  # -libreoffice.xlsx: saved as .xlsx by Calc
    _raw, meta, r = run(path)
    assert meta["sheet"] == "Blad1" and accounting(r) == ALL_USED and issues(r) == []
    assert used_column(r, "interventions") == [[1, 4], [3], None]
    assert used_column(r, "opened") == [dt.date(2022, 3, 5), dt.date(2022, 4, 1), dt.date(2023, 1, 15)]
