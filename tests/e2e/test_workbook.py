"""The workbooks end to end: the pipeline's own files, and LibreOffice opening and
re-saving the national workbook (the workbook on the frozen tables is in
tests/unit/reporting/test_workbook.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from support.workbooks import frozen_national_workbook, sheet_table

from kvinnofrid.reporting import workbook as wbm
from kvinnofrid.spec.diagrams import load_registry


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    return frozen_national_workbook(tmp_path_factory.mktemp("wb") / "tabeller.xlsx")


@pytest.mark.e2e
def test_the_pipeline_writes_the_national_workbook_from_its_tables(pipeline_run):
    path = pipeline_run.results / "tabeller.xlsx"
    wb = openpyxl.load_workbook(path)
    for n in load_registry().numbers:
        table = pl.read_parquet(pipeline_run.results / "tables" / f"diagram_{n:02d}.parquet")
        header, rows = sheet_table(wb[f"D{n:02d}"])
        assert [r[header.index("Antal")].value for r in rows] == table["n"].to_list(), n


@pytest.mark.e2e
def test_the_pipeline_writes_protected_unit_workbooks(pipeline_run):
    import json

    from support.workflow import run_snakemake

    run_snakemake(pipeline_run.workdir, "--", "interim/kommuner/areas.json")
    areas = json.loads((pipeline_run.interim / "kommuner" / "areas.json").read_text(encoding="utf-8"))
    smallest = min((a for a in areas if a["kind"] == "enhet"), key=lambda a: a["cases"])
    run_snakemake(pipeline_run.workdir, "--", f"results/kommuner/{smallest['slug']}.xlsx")
    long = pl.read_parquet(pipeline_run.interim / "kommuner" / "tables.parquet")
    wb = openpyxl.load_workbook(pipeline_run.results / "kommuner" / f"{smallest['slug']}.xlsx")
    hidden = 0
    for sheet in wb.sheetnames[3:]:
        table_id = "toppgrupp" if sheet == "Toppgrupp" else str(int(sheet[1:]))
        truth = long.filter((pl.col("table") == table_id) & (pl.col("area") == smallest["name"]))
        header, rows = sheet_table(wb[sheet])
        own = [r for r in rows if r[0].value == smallest["name"]]
        assert len(own) == truth.height, sheet
        for cells, row in zip(own, truth.iter_rows(named=True), strict=True):
            if row["suppressed"]:
                hidden += 1
                mark = wbm.SMALL if row["hidden_reason"] == "under_troskel" else wbm.SUPPRESSED
                assert cells[header.index("Antal")].value == mark, sheet
            else:
                assert cells[header.index("Antal")].value == row["n"], sheet
    assert hidden, "the smallest demo unit has hidden cells"


@pytest.mark.e2e
def test_libreoffice_opens_converts_and_resaves_the_workbook(national, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")
    profile = f"-env:UserInstallation=file://{tmp_path / 'profile'}"
    for target in ("pdf", "xlsx"):
        out = tmp_path / target
        done = subprocess.run(
            [soffice, profile, "--headless", "--convert-to", target, "--outdir", str(out), str(national)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0 and (out / f"{national.stem}.{target}").exists(), done.stderr
    import pypdf

    pages = len(pypdf.PdfReader(tmp_path / "pdf" / f"{national.stem}.pdf").pages)
    assert pages >= len(load_registry().numbers) + 3  # at least a page per sheet
    resaved = openpyxl.load_workbook(tmp_path / "xlsx" / f"{national.stem}.xlsx")
    original = openpyxl.load_workbook(national)
    assert resaved.sheetnames == original.sheetnames
    for name in original.sheetnames:
        a, b = original[name], resaved[name]
        for row in a.iter_rows():
            for cell in row:
                back = b[cell.coordinate]
                if cell.value is None:  # a formatted blank cell outside the tables
                    assert back.value is None, (name, cell.coordinate)
                elif cell.data_type == "n":
                    assert back.data_type == "n" and back.value == pytest.approx(cell.value, rel=1e-12), cell
                else:
                    assert back.value == cell.value, (name, cell.coordinate)
        assert not b.merged_cells.ranges
