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
from export_builders import csv_bytes
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
    for junk in ("Thumbs.db", "desktop.ini", "~$Habo.xlsx", ".DS_Store"):
        (round_folder / junk).write_bytes(b"\x00junk")
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
    assert sorted(not_exports["file"]) == sorted([".DS_Store", "Thumbs.db", "desktop.ini", "~$Habo.xlsx"])


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
    needles = {*CLIENTS, HANDLER, COMMENT, NAME_IN_SEX, SHIFTED, *PERSONAL_NUMBERS, "850412-1234"}
    folders = [workdir / f for f in ("results", "interim", "logs", "build", ".snakemake/log")]
    assert scan_for_personal_data(folders, needles) > 50
