"""The default target on exports that are not the demo data, made the way staff make them.

Two real-looking units (Håbo and Habo, one in a sub-folder) with personal data typed
into the wrong fields, a comment shifted by an unquoted delimiter, an Excel error and
the files an operating system leaves behind, beside the tiny .test exports no longer
marked as demo data. Only the pseudonymisation key is set: no population file. The run
must build the national report, tables and quality pages, keep every unit apart, and
let nothing personal reach results/, interim/, logs/ or build/.
"""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from adversarial_corpus import (
    BASE_HEADER,
    CLIENTS,
    COMMENT,
    H_AGE,
    H_INTERVENTIONS,
    H_MUNICIPALITY,
    H_SEX,
    HANDLER,
    base_rows,
    with_cell,
)
from conftest import ROOT, TINY_CONFIG, run_snakemake
from export_builders import csv_bytes, patch_sheet_xml, write_xlsx
from test_pipeline import scan_for_personal_data

from kvinnofrid.spec.diagrams import load_registry

pytestmark = pytest.mark.e2e

NAME_IN_SEX = "Agneta Persson"
PERSONAL_NUMBERS = ("19850412-1234", "8504121234")
SHIFTED = "Hemligt Ord"


def _export(municipality: str, *, plant: bool) -> bytes:
    rows = [list(r) for r in base_rows()]
    for row in rows:
        row[BASE_HEADER.index(H_MUNICIPALITY)] = municipality
    if plant:
        rows = with_cell(0, H_AGE, PERSONAL_NUMBERS[0], rows)
        rows = with_cell(1, H_SEX, NAME_IN_SEX, rows)
        rows = with_cell(2, H_INTERVENTIONS, f"1;{PERSONAL_NUMBERS[1]}", rows)
        rows = with_cell(2, H_AGE, "#N/A", rows)
    text = csv_bytes(BASE_HEADER, rows).decode()
    if plant:  # an unquoted ';' in the comment shifts the rest of the first record
        text = text.replace(COMMENT, f"{COMMENT}; {SHIFTED}", 1)
    return text.encode("cp1252")


# What Windows and Office leave beside the exports, recognised by kind (issue 21).
LEFTOVERS = ("Sigtuna.xlsx:Zone.Identifier", "~WRL0001.tmp")
NAME_IN_UNIT = "Birgitta Lind"  # a handler's name typed into Kommun/stadsdel on one row


def _sigtuna_workbook(path):
    """An export nobody described: a hidden sheet of drop-down lists first, a newer
    SUreg's label for Kön, a name in Kommun/stadsdel on one row, a stray value in
    A1048576."""
    rows = [list(r) for r in base_rows()]
    for row in rows:
        row[BASE_HEADER.index(H_MUNICIPALITY)] = "Sigtuna kommun"
    rows[2][BASE_HEADER.index(H_MUNICIPALITY)] = NAME_IN_UNIT
    header = ["Klientens kön (14)" if h == H_SEX else h for h in BASE_HEADER]
    lists = [["Verksamhet (1)", "Kön (14)"], ["Myndighet", "Kvinna"]]
    write_xlsx(path, header, rows, sheets_before=[("Listor", lists)], hidden=["Listor"])
    stray = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    patch_sheet_xml(path, lambda xml: xml.replace(b"</sheetData>", stray), part=2)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("real")
    raw = base / "raw"
    shutil.copytree(ROOT / ".test" / "data-raw", raw)
    (raw / "demodata.yaml").unlink()
    round_folder = raw / "2023-10-10"
    (round_folder / "inskick").mkdir()
    (round_folder / "inskick" / "Håbo export.csv").write_bytes(_export("Håbo", plant=True))
    (round_folder / "Habo.csv").write_bytes(_export("HABO kommun", plant=False))
    for junk in ("Thumbs.db", "desktop.ini", "~$Habo.xlsx", ".DS_Store", *LEFTOVERS):
        (round_folder / junk).write_bytes(b"\x00junk")
    (raw / "anteckningar.docx").write_bytes(b"PK\x03\x04 notes beside the rounds")
    _sigtuna_workbook(round_folder / "Sigtuna.xlsx")
    workdir = base / "work"
    workdir.mkdir()
    done = run_snakemake(
        workdir, "--", "all", configfile=TINY_CONFIG, data_raw=raw, pseudonym_key="en lång hemlig nyckel för testet"
    )
    return workdir, done


def test_the_default_target_builds_the_report_without_a_population_file(real_run):
    workdir, done = real_run
    assert (workdir / "results" / "report" / "rapport.pdf").is_file()
    assert all((workdir / "results" / "tables" / f"{d.slug}.csv").is_file() for d in load_registry().diagrams)
    assert not (workdir / "results" / "kolada").exists()
    assert (done.stdout + done.stderr).count("Kolada-nyckeltalen (per 10 000 vuxna invånare) byggs inte") == 1


def test_haabo_and_habo_are_two_units_and_the_junk_is_listed(real_run):
    workdir, _ = real_run
    units = pl.read_csv(workdir / "interim" / "units.csv")
    slugs = dict(units.select("unit", "unit_slug").unique().iter_rows())
    assert slugs["Håbo"] == "haabo" and slugs["Habo"] == "habo"
    assert (workdir / "results" / "quality" / "haabo.html").is_file()
    not_exports = pl.read_csv(workdir / "results" / "quality" / "not_exports.csv")
    junk = [".DS_Store", "Thumbs.db", "desktop.ini", "~$Habo.xlsx", *LEFTOVERS, "anteckningar.docx"]
    assert sorted(not_exports["file"]) == sorted(junk)


def test_an_export_nobody_described_is_read_by_what_it_is(real_run):
    workdir, _ = real_run
    summary = pl.read_csv(workdir / "results" / "quality" / "summary.csv")
    sigtuna = summary.filter(pl.col("unit") == "Sigtuna").row(0, named=True)
    assert (sigtuna["rows_read"], sigtuna["rows_used"], sigtuna["rows_quarantined"]) == (4, 2, 2)
    assert sigtuna["unit_text_not_a_unit"] == 1 and sigtuna["case_key_missing"] == 1  # the name, the stray cell
    assert sigtuna["column_label_differs"] == 1
    assert not summary["unit"].str.contains("Birgitta").any()
    page = (workdir / "results" / "quality" / "sigtuna.html").read_text(encoding="utf-8")
    assert "Listor" not in page and "<td>Blad1</td>" in page  # the export's sheet, not the hidden lists
    assert "(text med 13 tecken)" in page and "1048576" in page


def test_each_planted_mistake_ends_in_its_named_rule(real_run):
    workdir, _ = real_run
    summary = pl.read_csv(workdir / "results" / "quality" / "summary.csv")
    haabo = summary.filter((pl.col("unit") == "Håbo") & (pl.col("round") == "2023-10-10")).row(0, named=True)
    assert haabo["rows_read"] == 3 and haabo["rows_quarantined"] == 1 and haabo["row_has_extra_fields"] == 1
    assert haabo["personal_identity_number"] == 1  # the one in a row that is not shifted
    assert haabo["excel_error_value"] == 1 and haabo["unknown_value"] == 1
    page = (workdir / "results" / "quality" / "haabo.html").read_text(encoding="utf-8")
    assert "(text med 14 tecken)" in page  # the name in Kön, described
    habo = summary.filter(pl.col("unit") == "Habo").row(0, named=True)
    assert habo["rows_used"] == 3 and habo["municipality_not_in_register"] == 0


def test_nothing_personal_reaches_any_output_interim_file_or_log(real_run):
    workdir, _ = real_run
    needles = {*CLIENTS, HANDLER, COMMENT, NAME_IN_SEX, NAME_IN_UNIT, SHIFTED, *PERSONAL_NUMBERS, "850412-1234"}
    folders = [workdir / f for f in ("results", "interim", "logs", "build", ".snakemake/log")]
    assert scan_for_personal_data(folders, needles) > 50
