"""Exports nobody described (issue 21): each class of file the tools make, in instances
of our own, with its exact outcome.

The classes: a column known by its SUV number whatever its words (a newer SUreg's
label, invisible characters, a database's snake_case); the export's sheet found by its
content (hidden, behind a pivot or a sheet of lists, one of several); every file under
the data folder accounted for; a unit that keeps its identity across rounds; what a
person typed into Kommun/stadsdel never becoming a unit; a stray far cell costing
nothing; database extracts (``1.0``, ``NULL``); and what Windows, macOS, LibreOffice,
Excel's locales and database tools do to a file. Row numbers are the unit's: the header
is row/line 1, so the three cases of the base export are rows 2, 3 and 4.
(What LibreOffice itself saves is in tests/e2e/test_undescribed_exports.py: it starts
LibreOffice.)
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support.adversarial_corpus import (
    BASE_HEADER,
    CLIENTS,
    COMMENT,
    H_AGE,
    H_CLIENT,
    H_CLOSED,
    H_HANDLER,
    H_INTERVENTIONS,
    H_INTERVENTIONS_COMMENT,
    H_MUNICIPALITY,
    H_OPENED,
    H_RISK,
    H_SERVICE,
    H_SEX,
    HANDLER,
    KEY,
    PERIOD,
    ROUND,
    accounting,
    base_rows,
    col,
    issues,
    output_text,
    round_path,
    run,
    used_column,
    with_cell,
)
from support.export_builders import csv_bytes, patch_sheet_xml, write_csv, write_xlsx

from kvinnofrid.spec.municipalities import KnownUnits, load_aliases, unit_identity
from kvinnofrid.spec.rules import RULES
from kvinnofrid.stages.clean import clean_file
from kvinnofrid.stages.compile import CompileError, assign_units, compile_cases
from kvinnofrid.stages.grid import column_letters
from kvinnofrid.stages.headers import classify_header
from kvinnofrid.stages.ingest import IngestError, ingest_file
from kvinnofrid.stages.quality import consequence, quality_summary, render_unit_page
from kvinnofrid.stages.rawfiles import not_an_export, survey
from kvinnofrid.stages.redaction import looks_like_person
from kvinnofrid.stages.xlsx import OoxmlWorkbook, _has_column_from, is_date_format, is_sparse

ALL_USED = (3, 3, 0, 0)
EARLIER = dt.date(2023, 5, 15)


def renamed(**changes: str) -> list[str]:
    """BASE_HEADER with some headers replaced ({old: new})."""
    return [changes.get(h, h) for h in BASE_HEADER]


def export(tmp_path, rows=None, header=BASE_HEADER, name="export.csv", **options) -> Path:
    path = round_path(tmp_path, name)
    writer = write_xlsx if name.endswith(".xlsx") else write_csv
    return writer(path, header, base_rows() if rows is None else rows, **options)


def export_bytes(tmp_path, data: bytes, name="export.csv") -> Path:
    path = round_path(tmp_path, name)
    path.write_bytes(data)
    return path


def with_unit(rows, municipality: str, service: str = "1"):
    out = [list(r) for r in rows]
    for row in out:
        row[col(H_MUNICIPALITY)], row[col(H_SERVICE)] = municipality, service
    return out


# =============================================================== 1. columns by SUV number


@pytest.mark.parametrize(
    "old, new, target, expected",
    [
        (H_SEX, "Klientens kön (14)", "sex", "Kön (14)"),
        (H_SEX, "Kön enligt folkbokföringen (v14)", "sex", "Kön (14)"),
        (H_AGE, "Ålder vid aktualisering (15)", "age", "Ålder/uppskattad ålder (15)"),
        (H_OPENED, "Datum då ärendet aktualiserades (5)", "opened", "Datum för aktualisering (5)"),
        (H_CLIENT, "Klientens identitet (4)", "client", "Klient (4)"),
        (H_CLOSED, "(256) Avslutsdatum för ärendet", "closed", "Datum för när ärendet avslutats (256)"),
    ],
)
def test_a_newer_label_with_the_suv_number_is_that_variable_with_a_note(tmp_path, old, new, target, expected):
    _raw, meta, r = run(export(tmp_path, header=renamed(**{old: new})))
    assert meta["columns"][new] == ("personal" if target == "client" else target)
    assert accounting(r) == ALL_USED
    assert issues(r) == [("column_label_differs", None, new, expected)]
    if target == "sex":
        assert used_column(r, "sex") == [1, 1, 2]


@pytest.mark.parametrize(
    "header",
    [
        "Kli\u200bent (4)",  # zero-width space
        "Kli\u00adent (4)",  # soft hyphen
        "\ufeffKlient (4)",  # a byte-order mark left in the header
        "Klient\u00a0(4)",  # non-breaking space
        "Klient（４）",  # full-width parentheses and digit
        "Klient\n(4)",  # a line break typed into the header cell
        "  klient (4)  ",
        "Klient (4):",
    ],
)
def test_invisible_characters_do_not_hide_the_key_column(tmp_path, header):
    _raw, _meta, r = run(export(tmp_path, header=renamed(**{H_CLIENT: header})))
    assert accounting(r) == ALL_USED and issues(r) == []
    assert r.used["client_key"].null_count() == 0


def test_a_doubled_byte_order_mark_in_a_csv(tmp_path):
    data = b"\xef\xbb\xbf" + csv_bytes(BASE_HEADER, base_rows(), encoding="utf-8-sig")
    _raw, meta, r = run(export_bytes(tmp_path, data))
    assert (meta["encoding"], accounting(r), issues(r)) == ("utf-8-sig", ALL_USED, [])
    assert "Verksamhet (1)" in meta["columns"]


@pytest.mark.parametrize(
    "header, resembles",
    [
        ("Kön (15)", "Kön (14)"),  # the words say Kön, the number Ålder: not trusted
        ("Kön (99)", "Kön (14)"),  # a number the codebook lacks
        ("Kön enligt handläggaren", "Kön (14)"),  # the label among other words
        ("Klientens kön", "Kön (14)"),
    ],
)
def test_a_column_that_points_at_a_missing_variable_is_a_warning_saying_which(tmp_path, header, resembles):
    _raw, meta, r = run(export(tmp_path, header=renamed(**{H_SEX: header})))
    assert issues(r) == [("column_not_recognised", None, header, resembles)]
    assert RULES["column_not_recognised"].outcome == "warning"
    assert "Inget behöver göras" not in RULES["column_not_recognised"].advice
    assert used_column(r, "sex") == [None, None, None] and accounting(r) == ALL_USED
    assert meta["local_variables"] == [{"name": header, "filled": 3}]


def test_a_column_like_a_variable_the_file_has_is_just_a_local_variable(tmp_path):
    header = [*BASE_HEADER, "Kön enligt handläggaren"]
    _raw, _meta, r = run(export(tmp_path, [[*row, "1"] for row in base_rows()], header))
    assert issues(r) == [("local_variable", None, "Kön enligt handläggaren", None)]
    assert used_column(r, "sex") == [1, 1, 2]


def test_a_number_only_column_yields_to_the_column_that_names_the_variable(tmp_path):
    header = [*BASE_HEADER, "Klientens kön (14)"]
    _raw, _meta, r = run(export(tmp_path, [[*row, "2"] for row in base_rows()], header))
    assert issues(r) == [("local_variable", None, "Klientens kön (14)", None)]
    assert used_column(r, "sex") == [1, 1, 2]


def test_two_relabelled_columns_of_one_variable_are_a_located_error(tmp_path):
    header = [*renamed(**{H_SEX: "Klientens kön (14)"}), "Kön enligt SUreg (14)"]
    with pytest.raises(IngestError, match=r'"Klientens kön \(14\)" \(kolumn 6\) och "Kön enligt SUreg \(14\)"'):
        run(export(tmp_path, [[*row, "2"] for row in base_rows()], header))


@pytest.mark.parametrize(
    "header, near",
    [("Klient (44)", "Klient (44)"), ("Klient-nr (5)", "Klient-nr (5)"), ("Klientnummer", None)],
)
def test_a_key_column_that_cannot_be_read_names_the_column_that_resembles_it(tmp_path, header, near):
    with pytest.raises(IngestError) as error:
        run(export(tmp_path, header=renamed(**{H_CLIENT: header})))
    message = str(error.value)
    assert message.startswith("Filen 2023-10-10/export.csv saknar kolumnen Klient (4)")
    if near:
        assert f'Kolumnen "{near}" (kolumn 4) liknar den' in message


def test_comment_and_option_columns_with_numbers_stay_what_they_are():
    assert classify_header("Kommentar (118)").role == "comment"
    assert classify_header("Kön kommentar (14)").role == "comment"
    option = classify_header("Insatser (118): Skyddat boende")
    assert (option.role, option.code, option.by_number) == ("option", "10", True)
    assert classify_header("Skattning risk 2 skattning (90)").target == "risk_2_rating"
    assert classify_header("Upprepad skattning (90)").role == "local"


@pytest.mark.parametrize(
    "header, target",
    [
        ("datum_for_aktualisering", "opened"),
        ("kommun_stadsdel", "municipality"),
        ("KLIENT", "client"),
        ("datum_for_nar_arendet_avslutats", "closed"),
        ("alder_uppskattad_alder", "age"),
    ],
)
def test_database_column_names_are_recognised(header, target):
    assert classify_header(header).target == target


# ================================================================ 2. sheets by content

LISTS = [["Verksamhet (1)", "Kön (14)"], ["Myndighet", "Kvinna"], ["Utförare", "Man"]]
PIVOT = [["Radetiketter", "Antal av Klient (4)"], ["Sigtuna", 3], ["Totalsumma", 3]]


@pytest.mark.parametrize(
    "before, after, hidden, sheet",
    [
        ([("Listor", LISTS)], [], ["Listor"], "Blad1"),  # a hidden sheet of drop-down lists first
        ([("Pivot", PIVOT)], [], [], "Blad1"),  # a pivot table Excel put before the export
        ([("Instruktion", [["Fyll i"], ["Klient (4)", "Datum för aktualisering (5)"]])], [], [], "Blad1"),
        ([], [("Listor", LISTS)], [], "Blad1"),
        ([("Sammanfattning", [["Rapport"]])], [], ["Blad1"], "Blad1"),  # the export itself hidden
    ],
)
def test_the_export_is_the_sheet_whose_header_holds_the_key_columns(tmp_path, before, after, hidden, sheet):
    path = export(tmp_path, name="bok.xlsx", sheets_before=before, sheets_after=after, hidden=hidden)
    _raw, meta, r = run(path)
    assert (meta["sheet"], meta["sheet_hidden"]) == (sheet, sheet in hidden)
    assert accounting(r) == ALL_USED and issues(r) == []


def test_several_sheets_with_exports_read_one_and_say_which_were_not(tmp_path):
    rows = [BASE_HEADER, *base_rows()]
    path = export(tmp_path, name="bok.xlsx", sheet="Blad1", sheets_after=[("Blad1 (2)", rows), ("Kopia", rows)])
    _raw, meta, r = run(path)
    assert meta["sheet"] == "Blad1" and accounting(r) == ALL_USED
    assert issues(r) == [("several_export_sheets", None, None, "Blad1 (2), Kopia")]
    path = export(tmp_path, name="data.xlsx", sheet="Data", sheets_before=[("Blad1", rows)])
    assert run(path)[1]["sheet"] == "Data"  # a sheet named Data (or Export) is the one read


def test_a_workbook_without_an_export_sheet_names_its_sheets(tmp_path):
    path = round_path(tmp_path, "bok.xlsx")
    write_xlsx(path, PIVOT[0], PIVOT[1:], sheet="Pivot", sheets_after=[("Listor", LISTS)])
    with pytest.raises(IngestError) as error:
        run(path)
    assert str(error.value).startswith('Filen 2023-10-10/bok.xlsx, fliken "Listor" saknar kolumnen Klient (4)')
    assert "Ingen av arbetsbokens flikar (Pivot, Listor) har dem." in str(error.value)


def test_every_message_about_a_workbook_names_the_sheet(tmp_path):
    path = export(tmp_path, [], name="tom.xlsx", sheet="Export 2023")
    with pytest.raises(IngestError, match=r'^Filen 2023-10-10/tom.xlsx, fliken "Export 2023" har en rubrikrad'):
        run(path)


# ====================================================== 3. an inventory of the data folder


def test_leftovers_of_windows_macos_and_office_are_skipped_by_kind(tmp_path):
    names = {
        "Sigtuna.xlsx:Zone.Identifier": "alternativ dataström",
        "Sigtuna.xlsx_Zone.Identifier": "alternativ dataström",
        "~WRL0001.tmp": "tillfällig fil",
        "~DF4A2B.tmp": "tillfällig fil",
        "8B4F2A00": "tillfällig fil",
        "~$Sigtuna.xlsx": "låsfil",
        ".~lock.Sigtuna.xlsx#": "låsfil",
        "._Sigtuna.xlsx": "resursgren",
        "Icon\r": "systemfil",
        "Sigtuna.xlsx.crdownload": "ofullständig nedladdning",
        "Sigtuna.csv~": "säkerhetskopia",
        "Sigtuna.xlk": "säkerhetskopia",
        "Sigtuna.lnk": "genväg",
        "$RECYCLE.BIN/S-1-5/x.csv": "systemmapp",
        ".Spotlight-V100/store.db": "systemmapp",
    }
    root = tmp_path / "data-raw"
    for name in [*names, "Sigtuna.xlsx"]:
        (root / "2023-10-10" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "2023-10-10" / name).write_bytes(b"x")
    found, skipped = survey(root)
    assert [f.file_id for f in found] == ["sigtuna-xlsx"]
    reasons = {s.file: s.reason for s in skipped}
    assert set(reasons) == set(names)
    for name, kind in names.items():
        assert kind in reasons[name], name


def test_an_export_beside_the_round_folders_stops_the_run_naming_it(tmp_path):
    root = tmp_path / "data-raw"
    (root / "2023-10-10").mkdir(parents=True)
    (root / "2023-10-10" / "a.csv").write_bytes(b"x")
    (root / "Sigtuna 2023.xlsx").write_bytes(b"x")
    with pytest.raises(
        ValueError, match=r"Sigtuna 2023.xlsx: filen ligger direkt i datamappen, utanför omgångsmapparna"
    ):
        survey(root)


def test_every_other_file_beside_the_rounds_and_every_round_after_the_cutoff_is_listed(tmp_path):
    root = tmp_path / "data-raw"
    for name in ("2023-10-10/a.csv", "2024-05-15/b.csv", "2024-05-15/sub/c.xlsx"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    for name in ("README.md", "demodata.yaml", "anteckningar.docx", "Thumbs.db", ".DS_Store"):
        (root / name).write_bytes(b"x")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_bytes(b"x")
    found, skipped = survey(root, cutoff=dt.date(2023, 12, 31))
    assert [f.file_id for f in found] == ["a-csv"]
    listed = {(s.round, s.file): s.reason for s in skipped}
    assert set(listed) == {
        ("", "README.md"),
        ("", "demodata.yaml"),
        ("", "anteckningar.docx"),
        ("", "Thumbs.db"),
        ("", ".DS_Store"),
        ("", ".git/HEAD"),
        ("2024-05-15", "b.csv"),
        ("2024-05-15", "sub/c.xlsx"),
    }
    assert "efter brytdatumet (cutoff 2023-12-31)" in listed[("2024-05-15", "b.csv")]
    assert "utanför omgångsmapparna" in listed[("", "anteckningar.docx")]


@pytest.mark.parametrize("name", ["export.csv", "export.xlsx", "export.txt", "export.ods"])
def test_an_ordinary_export_name_is_never_taken_for_a_leftover(name):
    assert not_an_export(Path(name)) is None


# ====================================================== 4. unit identity across rounds


def cleaned_export(tmp_path, round_date, name, rows, known: KnownUnits | None = None):
    path = write_csv(tmp_path / round_date.isoformat() / name, BASE_HEADER, rows)
    raw, meta = ingest_file(path, round_date, KEY, known)
    return meta, clean_file(raw, meta, PERIOD, round_date)


@pytest.mark.parametrize("first, then", [("1", "3"), ("Myndighet", "Både myndighet och utförare"), ("2", "")])
def test_a_single_unit_whose_verksamhet_changes_is_one_unit_counted_once(tmp_path, first, then):
    files = [
        cleaned_export(tmp_path, EARLIER, "a.csv", with_unit(base_rows(), "Sigtuna", first)),
        cleaned_export(tmp_path, ROUND, "a.csv", with_unit(base_rows(), "Sigtuna", then)),
    ]
    cases, _, warnings = compile_cases(files, cutoff=ROUND)
    assert cases.group_by("unit").len().rows() == [("Sigtuna", 3)]
    changed = warnings.filter(pl.col("rule") == "unit_service_type_changed")
    assert changed.select("round", "file", "column").rows() == [(EARLIER, "2023-05-15/a.csv", "Verksamhet (1)")]
    assert (
        changed["value"]
        .item()
        .endswith("(senaste export: " + ("saknas" if not then else "Både myndighet och utförare") + ")")
    )


def test_a_municipality_with_two_units_in_a_round_keeps_them_apart_and_says_what_they_share(tmp_path):
    shared = with_unit(base_rows(), "Solna", "2")
    files = [
        cleaned_export(tmp_path, ROUND, "m.csv", with_unit(base_rows(), "Solna", "1")),
        cleaned_export(tmp_path, ROUND, "u.csv", shared[:2]),
    ]
    cases, _, warnings = compile_cases(files, cutoff=ROUND)
    assert cases.group_by("unit").len().sort("unit").rows() == [("Solna (Myndighet)", 3), ("Solna (Utförare)", 2)]
    assert warnings.filter(pl.col("rule") == "units_share_cases").select("unit", "file", "value").rows() == [
        ("Solna (Myndighet)", "2023-10-10/m.csv", "2 ärenden finns också hos Solna (Utförare)"),
        ("Solna (Utförare)", "2023-10-10/u.csv", "2 ärenden finns också hos Solna (Myndighet)"),
    ]


@pytest.mark.parametrize(
    "first, then",
    [
        ("Kungsholmens stadsdelsförvaltning", "Kungsholmen"),
        ("SDF Kungsholmen", "Kungsholmens SDN"),
        ("Stadsdelsnämnden i Kungsholmen", "KUNGSHOLMEN"),
        ("Kungsholmens stadsdelsområde", "Kungsholmen stadsdel"),
    ],
)
def test_a_district_written_with_and_without_its_administration_is_one_unit(tmp_path, first, then):
    files = [
        cleaned_export(tmp_path, EARLIER, "k.csv", with_unit(base_rows(), first)),
        cleaned_export(tmp_path, ROUND, "k.csv", with_unit(base_rows(), then)),
    ]
    cases, _, warnings = compile_cases(files, cutoff=ROUND)
    assert cases["unit"].unique().to_list() == [then] and cases.height == 3
    renamed_ = warnings.filter(pl.col("rule") == "unit_name_changed")
    assert renamed_.select("round", "value").rows() == [(EARLIER, f"{first} (senaste export: {then})")]


def test_a_configured_district_with_its_administration_is_that_district(tmp_path):
    files = [cleaned_export(tmp_path, ROUND, "e.csv", with_unit(base_rows(), "Enskede-Årsta-Vantörs SDF"))]
    cases, _, warnings = compile_cases(files, cutoff=ROUND, districts={"Enskede-Årsta-Vantör": "Stockholm"})
    assert cases["unit"].unique().to_list() == ["Enskede-Årsta-Vantör"]
    assert warnings.filter(pl.col("rule") == "municipality_not_in_register").height == 0


def test_the_alias_file_names_spellings_the_run_cannot_tell_apart(tmp_path):
    aliases_csv = tmp_path / "alias.csv"
    aliases_csv.write_text("stavning;enhet\nSthlm Vuxenenheten;Stockholm\nRinkeby;Rinkeby-Kista\n", encoding="utf-8")
    aliases = load_aliases(aliases_csv)
    assert aliases == {"sthlm vuxenenheten": "Stockholm", "rinkeby": "Rinkeby-Kista"}
    files = [
        cleaned_export(tmp_path, EARLIER, "s.csv", with_unit(base_rows(), "Sthlm Vuxenenheten")),
        cleaned_export(tmp_path, ROUND, "s.csv", with_unit(base_rows(), "Stockholm")),
        cleaned_export(tmp_path, EARLIER, "r.csv", with_unit(base_rows(), "Rinkeby")),
        cleaned_export(tmp_path, ROUND, "r.csv", with_unit(base_rows(), "Rinkeby-Kista")),
    ]
    cases, _, warnings = compile_cases(files, cutoff=ROUND, aliases=aliases)
    assert cases.group_by("unit").len().sort("unit").rows() == [("Rinkeby-Kista", 3), ("Stockholm", 3)]
    assert sorted(warnings.filter(pl.col("rule") == "unit_name_changed")["value"].to_list()) == [
        "Rinkeby (senaste export: Rinkeby-Kista)",
        "Sthlm Vuxenenheten (senaste export: Stockholm)",
    ]
    units = assign_units(files, aliases=aliases)
    assert set(units.filter(pl.col("unit") == "Stockholm")["municipality"]) == {"Stockholm"}
    (tmp_path / "fel.csv").write_text("namn,enhet\nx,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"kolumnerna \['stavning'\] saknas i aliasfilen"):
        load_aliases(tmp_path / "fel.csv")


def test_unit_identity_keeps_the_swedish_letters():
    assert unit_identity("Håbo kommun") != unit_identity("Habo kommun")
    assert unit_identity("Skärholmens stadsdelsförvaltning") == unit_identity("Skärholmen")
    assert unit_identity("Bromma") == "bromma"


# ====================================================== 5. personal text in unit fields

KNOWN = KnownUnits.of(districts={"Enskede-Årsta-Vantör": "Stockholm"})


def many_rows(n: int, municipality: str = "Sigtuna") -> list[list]:
    rows = []
    for i in range(n):
        row = list(base_rows()[i % 3])
        row[col(H_CLIENT)], row[col(H_MUNICIPALITY)] = f"K{i}", municipality
        row[col(H_OPENED)] = f"2022-{1 + i % 12:02d}-{1 + i // 12:02d}"
        rows.append(row)
    return rows


@pytest.mark.parametrize(
    "text, shown",
    [
        ("Anna Andersson", "(text med 14 tecken)"),  # a handler's name
        ("Karl-Erik Johansson", "(text med 19 tecken)"),
        ("anna.andersson@sigtuna.se", "(text med 25 tecken)"),
        ("070-123 45 67", "(text med 13 tecken)"),
        ("Sigtnua", "(text med 7 tecken)"),  # a typo on one row of many: not a unit either
    ],
)
def test_a_person_or_a_stray_text_in_kommun_stadsdel_is_never_a_unit(tmp_path, text, shown):
    rows = many_rows(30)
    rows[6][col(H_MUNICIPALITY)] = text
    path = write_csv(round_path(tmp_path, "sigtuna.csv"), BASE_HEADER, rows)
    raw, meta = ingest_file(path, ROUND, KEY, KNOWN)
    result = clean_file(raw, meta, PERIOD, ROUND)
    assert issues(result, "unit_text_not_a_unit") == [("unit_text_not_a_unit", 8, H_MUNICIPALITY, shown)]
    assert accounting(result) == (30, 29, 0, 1)
    assert result.excluded.select("row", "rule").rows() == [(8, "unit_text_not_a_unit")]
    assert result.unit_parts == [] and meta["municipality"] == "Sigtuna"
    cases, _, warnings = compile_cases([(meta, result)], cutoff=ROUND)
    summary = quality_summary([(meta, result)], warnings)
    assert summary["unit"].to_list() == ["Sigtuna"] and summary["unit_text_not_a_unit"].to_list() == [1]
    page = render_unit_page("Sigtuna", [(meta, result)], warnings)
    for where in (output_text(meta, result), page, summary.write_csv(), repr(cases.rows()), warnings.write_csv()):
        assert text not in where


@pytest.mark.parametrize("text", ["Anna Andersson", "berit.berg@kommun.se", "+46 70 123 45 67"])
def test_a_person_on_every_row_leaves_no_unit_and_says_so_without_the_text(tmp_path, text):
    path = write_csv(round_path(tmp_path, "x.csv"), BASE_HEADER, with_unit(base_rows(), text))
    raw, meta = ingest_file(path, ROUND, KEY, KNOWN)
    result = clean_file(raw, meta, PERIOD, ROUND)
    assert accounting(result) == (3, 0, 0, 3) and meta["municipality"] is None
    with pytest.raises(CompileError, match=r"anger ingen Kommun/stadsdel \(2\) \(3 rader hade i stället") as error:
        compile_cases([(meta, result)], cutoff=ROUND)
    assert str(error.value).startswith("2023-10-10/x.csv: ") and text not in str(error.value)


def test_a_known_district_on_a_few_rows_is_a_unit_of_its_own(tmp_path):
    rows = many_rows(30)
    rows[6][col(H_MUNICIPALITY)] = "Enskede-Årsta-Vantör"
    path = write_csv(round_path(tmp_path, "s.csv"), BASE_HEADER, rows)
    raw, meta = ingest_file(path, ROUND, KEY, KNOWN)
    result = clean_file(raw, meta, PERIOD, ROUND)
    assert issues(result, "unit_text_not_a_unit") == [] and len(result.unit_parts) == 2


def test_an_unknown_unit_on_many_rows_is_still_a_unit_with_a_warning(tmp_path):
    rows = many_rows(30)
    for i in range(10):
        rows[i][col(H_MUNICIPALITY)] = "Märsta"
    path = write_csv(round_path(tmp_path, "s.csv"), BASE_HEADER, rows)
    raw, meta = ingest_file(path, ROUND, KEY, KNOWN)
    result = clean_file(raw, meta, PERIOD, ROUND)
    assert issues(result, "unit_text_not_a_unit") == [] and len(result.unit_parts) == 2


@pytest.mark.parametrize(
    "text, person",
    [
        ("Anna Andersson", True),
        ("A. Berg", True),
        ("Mohammed Ali", True),
        ("Norra Innerstaden", False),
        ("Västra Hisingen", False),
        ("Askim-Frölunda-Högsbo", False),
        ("Kungsholmen", False),
        ("Maria-Gamla stan", False),
        ("Individ- och familjeomsorgen", False),
    ],
)
def test_what_looks_like_a_person(text, person):
    assert looks_like_person(text) is person


# ================================================================= 6. cheap reading


def far_cell(path: Path, cell: str, text: str) -> Path:
    row = re.sub(r"[A-Z]", "", cell)
    xml = f'<row r="{row}"><c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c></row></sheetData>'.encode()
    return patch_sheet_xml(path, lambda d: d.replace(b"</sheetData>", xml))


@pytest.mark.parametrize(
    "cell, text, outcome, sparse",
    [
        ("A1048576", "x", (4, 3, 0, 1), True),  # a value far down: a row of its own, without a key
        ("XFD1048576", "", ALL_USED, True),  # an empty string in the last cell (calamine: 550 GB)
        ("XFD5", "stray", (4, 3, 0, 1), False),  # far right, below the data: few cells either way
        ("XFD1048576", "kvar", (4, 3, 0, 1), True),
    ],
)
def test_a_stray_far_cell_costs_nothing_and_is_accounted(tmp_path, cell, text, outcome, sparse):
    path = far_cell(export(tmp_path, name="far.xlsx"), cell, text)
    assert is_sparse(zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")) is sparse
    _raw, _meta, r = run(path)
    assert accounting(r) == outcome
    if outcome != ALL_USED:
        assert r.excluded.select("row", "rule").rows() == [(int(re.sub(r"[A-Z]", "", cell)), "case_key_missing")]


@given(
    st.lists(st.integers(0, 16_383), min_size=1, max_size=4),
    st.integers(0, 16_383),
    st.booleans(),
)
@example([25], 26, False)  # Z, AA: one letter short of two
@example([26], 26, False)
@example([701], 702, True)  # ZZ, AAA
@example([702], 702, False)
@example([363, 27], 363, False)  # MZ: the first letter's last column
def test_a_search_for_a_column_from_an_index_finds_exactly_the_cells_at_or_beyond_it(columns, index, absolute):
    # is_sparse searches the XML for a reference at or beyond a column instead of listing
    # every cell: a cell one column short of it must not count, the column itself must
    dollar = "$" if absolute else ""
    cells = "".join(f'<c r="{dollar}{column_letters(c)}{dollar}7" s="1"><v>1</v></c>' for c in columns)
    xml = f'<row r="7">{cells}</row>'.encode()
    assert _has_column_from(xml, index) is (max(columns) >= index)


def test_the_xml_reader_gives_the_cells_calamine_gives(tmp_path):
    rows = with_cell(0, H_OPENED, dt.date(2022, 3, 5))
    rows = with_cell(1, H_CLOSED, dt.datetime(2022, 9, 30, 13, 30), rows)
    rows = with_cell(2, H_AGE, 45.0, rows)
    rows = with_cell(2, H_RISK[2], 7.5, rows)
    rows = with_cell(1, H_SEX, True, rows)
    path = export(tmp_path, rows, name="typer.xlsx")
    book = OoxmlWorkbook(path)
    sheet = book.sheets[0]
    xml = book._zip.read(book._member(sheet.part)).decode()
    assert book._parsed(xml).sort("row", "col").equals(book.cells(sheet).sort("row", "col"))
    cells = {(r, c): t for r, c, t in book._parsed(xml).rows()}
    assert cells[(2, col(H_OPENED))] == "2022-03-05 00:00:00" and cells[(3, col(H_CLOSED))] == "2022-09-30 13:30:00"
    assert cells[(4, col(H_AGE))] == "45" and cells[(4, col(H_RISK[2]))] == "7.5" and cells[(3, col(H_SEX))] == "true"


@pytest.mark.parametrize(
    "code, is_date",
    [
        ("yyyy-mm-dd", True),
        ("[$-41D]d mmmm yyyy", True),
        ("[h]:mm", True),
        ('"Datum: "0', False),
        ("0.00", False),
        ("[Red]0", False),
        ("General", False),
        ("#,##0 kr", False),
    ],
)
def test_number_formats_that_show_a_date(code, is_date):
    assert is_date_format(code) is is_date


def test_the_1904_date_system_of_old_mac_excel(tmp_path):
    rows = with_cell(0, H_OPENED, dt.date(2022, 3, 5))
    _raw, _meta, r = run(export(tmp_path, rows, name="mac.xlsx", date_1904=True))
    assert used_column(r, "opened")[0] == dt.date(2022, 3, 5)


def test_namespace_prefixes_and_inline_strings_of_database_tools(tmp_path):
    def prefixed(xml: bytes) -> bytes:
        xml = xml.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=").replace(b"</worksheet>", b"</x:worksheet>")
        return re.sub(
            rb"<(/?)(sheetData|row|c|v|dimension|sheetViews|sheetView|sheetFormatPr|pageMargins)\b", rb"<\1x:\2", xml
        )

    path = patch_sheet_xml(export(tmp_path, name="db.xlsx"), prefixed)
    _raw, _meta, r = run(path)
    assert accounting(r) == ALL_USED and issues(r) == []
    sparse = far_cell(export(tmp_path, name="db2.xlsx"), "A900000", "x")
    _raw, _meta, r = run(patch_sheet_xml(sparse, prefixed))
    assert accounting(r) == (4, 3, 0, 1)


# ===================================================================== 7. extracts


def test_a_database_extract_with_decimals_and_nulls(tmp_path):
    rows = with_cell(0, H_SERVICE, "1.0")
    rows = with_cell(0, H_SEX, "2.0", rows)
    rows = with_cell(0, H_AGE, "34.0", rows)
    rows = with_cell(0, H_RISK[2], "7.0", rows)
    rows = with_cell(0, H_RISK[1], "2,0", rows)
    rows = with_cell(0, H_INTERVENTIONS, "1.0;4.0", rows)
    rows = with_cell(0, H_INTERVENTIONS_COMMENT, "NULL", rows)
    rows = with_cell(1, H_CLIENT, "NULL", rows)
    rows = with_cell(1, H_SEX, "null", rows)
    rows = with_cell(2, H_AGE, "N/A", rows)
    rows = with_cell(2, H_CLOSED, "\\N", rows)
    rows = with_cell(2, H_HANDLER, "NA", rows)
    _raw, meta, r = run(export(tmp_path, rows, delimiter="|"))
    assert meta["delimiter"] == "|"
    assert issues(r) == [("case_key_missing", 3, H_CLIENT, None)]
    assert accounting(r) == (3, 2, 0, 1)
    assert used_column(r, "sex") == [2, 2] and used_column(r, "age") == [34, None]
    assert used_column(r, "interventions") == [[1, 4], None] and r.counts["comments"] == 0
    assert r.risk.select("instrument", "rating").rows() == [(2, 7)]
    assert r.used["handler_key"].to_list()[1] is None


def test_option_columns_marked_one_point_zero(tmp_path):
    header = [*BASE_HEADER, "118_10", "118_11"]
    rows = [[*row, mark, other] for row, mark, other in zip(base_rows(), ["1.0", "0.0", "NULL"], ["", "1,0", "0"])]
    _raw, _meta, r = run(export(tmp_path, rows, header))
    assert issues(r) == [] and used_column(r, "interventions") == [[1, 4, 10], [3, 11], None]


# ============================================ 8. what the operating systems and tools do


def with_haabo(rows):
    return with_unit(rows, "Håbo")


@pytest.mark.parametrize(
    "encoding, newline, name",
    [
        ("mac_roman", "\r", "export.csv"),  # Excel for Mac: "CSV (Macintosh)"
        ("cp850", "\r\n", "export.csv"),  # Excel: "CSV (MS-DOS)"
        ("cp1252", "\r\n", "export.txt"),  # Excel: "Text (tabbavgränsad)" with ; chosen
        ("utf-16-le", "\r\n", "export.txt"),  # UTF-16 without a byte-order mark
        ("utf-16", "\r\n", "export.tsv"),
    ],
)
def test_encodings_excel_and_macs_save_in(tmp_path, encoding, newline, name):
    text = csv_bytes(BASE_HEADER, with_haabo(base_rows()), newline=newline).decode()
    data = text.encode(encoding, errors="replace")
    _raw, meta, r = run(export_bytes(tmp_path, data, name))
    assert meta["municipality"] == "Håbo" and accounting(r) == ALL_USED and issues(r) == []
    assert meta["encoding"] == {"utf-16-le": "utf-16"}.get(encoding, encoding)


def test_utf8_read_as_windows_1252_and_saved_again_is_repaired(tmp_path):
    text = csv_bytes(BASE_HEADER, with_haabo(base_rows())).decode()
    data = text.encode("utf-8").decode("cp1252", errors="replace").encode("utf-8")
    _raw, meta, r = run(export_bytes(tmp_path, data))
    assert (meta["encoding"], meta["municipality"], accounting(r)) == ("utf-8 (dubbelkodad)", "Håbo", ALL_USED)


def test_a_tab_delimited_unicode_text_saved_by_excel(tmp_path):
    data = csv_bytes(BASE_HEADER, base_rows(), delimiter="\t").decode().encode("utf-16")
    _raw, meta, r = run(export_bytes(tmp_path, data, "Unicode-text.txt"))
    assert (meta["encoding"], meta["delimiter"], accounting(r)) == ("utf-16", "\t", ALL_USED)


@pytest.mark.parametrize(
    "mark, chosen",
    [("SANT", True), ("FALSKT", False), ("TRUE", True), ("Falskt", False), ("x", True), ("0", False)],
)
def test_booleans_of_excel_in_swedish_and_english(tmp_path, mark, chosen):
    header = [*BASE_HEADER, "Stöd och insatser från socialtjänsten (118): Skyddat boende"]
    rows = [[*row, mark if i == 1 else ""] for i, row in enumerate(base_rows())]
    _raw, _meta, r = run(export(tmp_path, rows, header))
    assert issues(r) == [] and used_column(r, "interventions")[1] == ([3, 10] if chosen else [3])


def test_a_date_in_an_american_locale_is_shown_and_set_missing(tmp_path):
    _raw, _meta, r = run(export(tmp_path, with_cell(0, H_CLOSED, "9/30/2022")))
    assert ("invalid_date", 2, H_CLOSED, "9/30/2022") in issues(r)


@pytest.mark.parametrize("name, message", [("export.numbers", "Numbers (Mac)"), ("export.xml", "XML-kalkylblad")])
def test_formats_that_cannot_be_read_say_what_to_save_instead(tmp_path, name, message):
    with pytest.raises(IngestError, match=re.escape(message)):
        run(export_bytes(tmp_path, b"<x/>", name))


def test_nothing_personal_in_any_new_issue(tmp_path):
    rows = with_cell(0, H_MUNICIPALITY, "Berit Berg", many_rows(30))
    rows = with_cell(1, H_CLIENT, CLIENTS[0], with_cell(2, H_HANDLER, HANDLER, rows))
    header = renamed(**{H_SEX: "Klientens kön (14)", H_CLIENT: "Klientens identitet (4)"})
    path = write_csv(round_path(tmp_path, "s.csv"), header, rows)
    raw, meta = ingest_file(path, ROUND, KEY, KNOWN)
    result = clean_file(raw, meta, PERIOD, ROUND)
    text = output_text(meta, result)
    assert issues(result, "unit_text_not_a_unit") == [
        ("unit_text_not_a_unit", 2, H_MUNICIPALITY, "(text med 10 tecken)")
    ]
    for secret in ("Berit Berg", CLIENTS[0], HANDLER, COMMENT, *(f"K{i}" for i in range(30))):
        assert secret not in text


def test_every_field_rule_says_what_follows_for_the_case():
    for name, rule in RULES.items():
        if rule.outcome == "field":
            assert consequence(name, "closed").startswith("Ärendet räknas som pågående")
            assert consequence(name, "sex") is not None
    assert "avslutade ärenden" in consequence("survey_answers_on_open_case", None)


def test_excels_strict_open_xml_workbook(tmp_path):
    """Excel's "Strict Open XML Spreadsheet" has other namespaces than the usual one."""
    source = export(tmp_path, name="vanlig.xlsx")
    strict = round_path(tmp_path, "strikt.xlsx")
    namespaces = {
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
            b"http://purl.oclc.org/ooxml/officeDocument/relationships"
        ),
    }
    with zipfile.ZipFile(source) as plain, zipfile.ZipFile(strict, "w") as out:
        for info in plain.infolist():
            data = plain.read(info.filename)
            for transitional, purl in namespaces.items():
                data = data.replace(transitional, purl)
            out.writestr(info, data)
    _raw, meta, r = run(strict)
    assert meta["sheet"] == "Blad1" and accounting(r) == ALL_USED and issues(r) == []
    assert used_column(r, "interventions") == [[1, 4], [3], None]


def test_decomposed_letters_of_macos_are_the_same_letters(tmp_path):
    """macOS may write å as a + ring (NFD), in file names and in text it passes on."""
    decomposed = unicodedata.normalize("NFD", "Håbo")
    header = [unicodedata.normalize("NFD", h) for h in BASE_HEADER]
    path = write_csv(
        round_path(tmp_path, unicodedata.normalize("NFD", "Håbo export.csv")),
        header,
        with_unit(base_rows(), decomposed),
    )
    _raw, meta, r = run(path)
    assert accounting(r) == ALL_USED and issues(r) == []
    cases, _, warnings = compile_cases([(meta, r)], cutoff=ROUND)
    assert cases["unit"].unique().to_list() == ["Håbo"]  # the register's name, composed
    assert warnings.height == 0
