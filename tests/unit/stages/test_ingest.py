"""Ingest: every export variant of docs/data-contract.md, built here as small files."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from support.export_builders import csv_bytes, write_csv, write_xlsx

from kvinnofrid.spec import codebook
from kvinnofrid.spec.rules import ISSUE_SCHEMA
from kvinnofrid.stages.ingest import IngestError, classify_header, ingest_file, split_multi_tokens, write_ingest
from kvinnofrid.stages.pseudonym import pseudonym

KEY = b"test-nyckel"
ROUND = date(2023, 10, 10)
CB = codebook.load()

# --------------------------------------------------------------------- the 3 cases
# Personal texts that must never leave ingest.
CLIENTS = ["Klient-Hemlig-19850101", "Klient-Hemlig-2", "Klient-Hemlig-3"]
HANDLER = "Handläggare-Hemlig-Öberg"
COMMENT_118 = 'Hemlig kommentar; med, avgränsare\noch "radbrytning"'
COMMENT_58 = "Hemlig anteckning"
SUGGESTION = "Hemligt förslag, tack"
MUNICIPALITY = "Höör"

INTERVENTION_CODES = [[1, 4], [16], []]
PERPETRATOR_CODES = [[2], [1, 3], [6]]


def expected_frame(rows: list[int]) -> pl.DataFrame:
    """The raw frame every variant of the 3 cases must give."""
    columns: dict[str, pl.Series] = {
        "row": pl.Series(rows, dtype=pl.Int32),
        "client_key": pl.Series([pseudonym(c, KEY) for c in CLIENTS], dtype=pl.String),
        "handler_key": pl.Series([pseudonym(HANDLER, KEY)] * 2 + [None], dtype=pl.String),
    }
    given = {
        "service_type": ["1", "1", "1"],
        "municipality": [MUNICIPALITY] * 3,
        "opened": ["2022-03-05", "2022-04-01", "2023-01-15"],
        "sex": ["1", "2", "1"],
        "age": ["34", "51", None],
        "interventions": [["1", "4"], ["16"], None],
        "perpetrator": [["2"], ["1", "3"], ["6"]],
        "closed": ["2022-09-30", None, None],
    }
    for v in CB.national:
        dtype = pl.List(pl.String) if v.kind == "multi" else pl.String
        columns[v.name] = pl.Series(given.get(v.name, [None] * 3), dtype=dtype)
    risk = {
        "risk_1_date": ["2022-03-06", None, "2023-01-20"],
        "risk_1_instrument": ["2", None, "3"],
        "risk_1_rating": ["7", None, "10"],
        "risk_2_date": ["2022-06-01", None, None],
        "risk_2_instrument": ["1", None, None],
        "risk_2_rating": ["4", None, None],
    }
    for name, values in risk.items():
        columns[name] = pl.Series(values, dtype=pl.String)
    columns["comments"] = pl.Series([1, 0, 1], dtype=pl.Int16)
    columns["has_suggestion"] = pl.Series([True, False, False])
    columns["extra_fields"] = pl.Series([False, False, False])
    columns["unit_text"] = pl.Series([None, None, None], dtype=pl.String)
    return pl.DataFrame(columns)


def case_values(typed: bool) -> list[dict]:
    """Per case: header key → cell (typed for xlsx: dates and numbers as such)."""
    d = (lambda y, m, day: date(y, m, day)) if typed else (lambda y, m, day: f"{y:04d}-{m:02d}-{day:02d}")
    n = (lambda x: x) if typed else str
    return [
        dict(
            service=n(1),
            municipality=MUNICIPALITY,
            handler=HANDLER,
            client=CLIENTS[0],
            opened=d(2022, 3, 5),
            sex=n(1),
            age=n(34),
            closed=d(2022, 9, 30),
            r1=(d(2022, 3, 6), n(2), n(7)),
            r2=(d(2022, 6, 1), n(1), n(4)),
            c118=COMMENT_118,
            c58=None,
            suggestion=SUGGESTION,
            local="A1",
        ),
        dict(
            service=n(1),
            municipality=MUNICIPALITY,
            handler=HANDLER,
            client=CLIENTS[1],
            opened=d(2022, 4, 1),
            sex=n(2),
            age=n(51),
            closed=None,
            r1=(None, None, None),
            r2=(None, None, None),
            c118=None,
            c58="  ",
            suggestion=None,
            local=None,
        ),
        dict(
            service=n(1),
            municipality=MUNICIPALITY,
            handler=None,
            client=CLIENTS[2],
            opened=d(2023, 1, 15),
            sex=n(1),
            age=None,
            closed=None,
            r1=(d(2023, 1, 20), n(3), n(10)),
            r2=(None, None, None),
            c118=None,
            c58=COMMENT_58,
            suggestion="",
            local="B2",
        ),
    ]


def build_rows(headers: dict, typed: bool, multi) -> tuple[list[str], list[list]]:
    """Header texts and rows; ``multi(case_index)`` returns (extra headers, cells)."""
    head = [headers[k] for k in ("service", "municipality", "handler", "client", "opened", "sex", "age", "closed")]
    head += headers["risk"] + [headers["c118"], headers["c58"], headers["suggestion"], "Egen kod"]
    multi_head, _ = multi(0)
    rows = []
    for i, c in enumerate(case_values(typed)):
        row = [c[k] for k in ("service", "municipality", "handler", "client", "opened", "sex", "age", "closed")]
        row += [*c["r1"], *c["r2"], c["c118"], c["c58"], c["suggestion"], c["local"]]
        rows.append(row + multi(i)[1])
    return head + multi_head, rows


def per_option_multi(mark="X", empty=None):
    def multi(i):
        heads, cells = [], []
        for o in CB["interventions"].options:
            heads.append(f"Stöd och insatser från socialtjänsten (118): {o.label}")
            cells.append(mark if o.code in INTERVENTION_CODES[i] else empty)
        for o in CB["perpetrator"].options:
            heads.append(f"58_{o.code}")
            cells.append("1" if o.code in PERPETRATOR_CODES[i] else "0")
        return heads, cells

    return multi


def list_multi(separator=";", headers=("Stöd och insatser från socialtjänsten (118)", "Utövare av våldet (58)")):
    def multi(i):
        return list(headers), [
            separator.join(str(c) for c in INTERVENTION_CODES[i]) or None,
            separator.join(str(c) for c in PERPETRATOR_CODES[i]),
        ]

    return multi


def mixed_multi(i):
    """Interventions 1 and 4 as option columns, 16 in a list column; perpetrator as a list."""
    chosen = INTERVENTION_CODES[i]
    return ["118_1", "Stöd och insatser", "118_4", "Utövare"], [
        "x" if 1 in chosen else "",
        ", ".join(str(c) for c in chosen if c not in (1, 4)),
        "Ja" if 4 in chosen else "Nej",
        ", ".join(str(c) for c in PERPETRATOR_CODES[i]),
    ]


LABEL_NR = dict(
    service="Verksamhet (1)",
    municipality="Kommun/stadsdel (2)",
    handler="Handläggare (3)",
    client="Klient (4)",
    opened="Datum för aktualisering (5)",
    sex="Kön (14)",
    age="Ålder/uppskattad ålder (15)",
    closed="Datum för när ärendet avslutats (256)",
    risk=[f"Skattning risk (90) {k} {f}" for k in (1, 2) for f in ("datum", "instrument", "skattning")],
    c118="Stöd och insatser – Kommentar",
    c58="Kommentar (58)",
    suggestion="Klientförslag till förbättringar (217)",
)
V_NUMBERS = dict(
    service="V1",
    municipality="v2",
    handler="V3",
    client="v4",
    opened="V5",
    sex="V14",
    age="v15",
    closed="V256",
    risk=[f"Skattning risk {k} {f} (90)" for k in (1, 2) for f in ("datum", "instrument", "skattning")],
    c118="Kommentar (118)",
    c58="Utövare av våldet - Kommentar",
    suggestion="(217)",
)
ASCII_LABELS = dict(
    service="VERKSAMHET",
    municipality=" kommun ",
    handler="handlaggare",
    client="Klient-id",
    opened="Datum for aktualisering",
    sex="kon",
    age="Alder",
    closed="Avslutsdatum",
    risk=[f"skattning risk {k} {f}" for k in (1, 2) for f in ("DATUM", "Instrument", "skattning")],
    c118="Kommentar",
    c58="Utovare – kommentar",
    suggestion="Klientforslag",
)
PAREN_NUMBERS = dict(
    service="(1)",
    municipality="(2)",
    handler="(3)",
    client="(4)",
    opened="(5)",
    sex="(14)",
    age="(15)",
    closed="(256)",
    risk=[f"Skattning risk {k} {f}" for k in (1, 2) for f in ("datum", "instrument", "skattning")],
    c118="Kommentar (118)",
    c58="Kommentar (58)",
    suggestion="Klientförslag (217)",
)


def variant_xlsx_per_option(folder: Path) -> Path:
    head, rows = build_rows(LABEL_NR, typed=True, multi=per_option_multi())
    rows = [rows[0], ["   "], rows[1], rows[2], ["  "], [None]]  # empty rows in between and after
    return write_xlsx(
        folder / "enhet_a.xlsx",
        head,
        rows,
        sheet="Export",
        title_rows=[["SUreg – export"], ["Utskriftsdatum 2023-10-10"]],
        sheets_before=[("Info", [["Detta är en export"], ["Klient (4)", "Datum för aktualisering (5)"]])],
    )


def variant_csv_semicolon_bom_crlf(folder: Path) -> Path:
    head, rows = build_rows(V_NUMBERS, typed=False, multi=list_multi(";"))
    return write_csv(
        folder / "enhet_b.csv",
        head,
        [rows[0], None, rows[1], rows[2], None, None],
        delimiter=";",
        encoding="utf-8-sig",
        newline="\r\n",
    )


def variant_csv_comma_cp1252_lf(folder: Path) -> Path:
    head, rows = build_rows(ASCII_LABELS, typed=False, multi=mixed_multi)
    return write_csv(
        folder / "enhet_c.csv",
        head,
        rows,
        delimiter=",",
        encoding="cp1252",
        newline="\n",
        title_rows=[["SUreg - export"]],
    )


def variant_tab_utf8(folder: Path) -> Path:
    head, rows = build_rows(PAREN_NUMBERS, typed=False, multi=list_multi(", ", ("(118)", "V58")))
    return write_csv(folder / "enhet_d.csv", head, rows, delimiter="\t", encoding="utf-8", newline="\n")


def variant_xlsx_list_labels(folder: Path) -> Path:
    def multi(i):
        # interventions as a list of codes in a number cell or text; perpetrator as
        # boolean option cells (in code order, so the tokens come in the same order)
        codes = INTERVENTION_CODES[i]
        listed = codes[0] if len(codes) == 1 else (";".join(map(str, codes)) or None)
        return ["Stöd och insatser från socialtjänsten (118)", "58_1", "58_2", "58_3", "58_6"], [
            listed,
            *[c in PERPETRATOR_CODES[i] for c in (1, 2, 3, 6)],
        ]

    head, rows = build_rows(LABEL_NR, typed=True, multi=multi)
    return write_xlsx(folder / "enhet_e.xlsx", head, rows)


VARIANTS = {
    "xlsx_per_option": (variant_xlsx_per_option, [4, 6, 7]),
    "csv_semicolon_bom_crlf": (variant_csv_semicolon_bom_crlf, [2, 5, 6]),
    "csv_comma_cp1252_lf": (variant_csv_comma_cp1252_lf, [3, 5, 6]),
    "csv_tab_utf8": (variant_tab_utf8, [2, 4, 5]),
    "xlsx_list_and_boolean_options": (variant_xlsx_list_labels, [2, 3, 4]),
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    f = tmp_path / "data-raw" / "2023-10-10"
    f.mkdir(parents=True)
    return f


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_gives_the_same_frame(folder, variant):
    build, rows = VARIANTS[variant]
    frame, metadata = ingest_file(build(folder), ROUND, KEY)
    assert_frame_equal(frame, expected_frame(rows))
    assert metadata["rows_read"] == 3
    assert metadata["municipality"] == MUNICIPALITY
    assert metadata["service_type"] == 1
    assert metadata["local_variables"] == [{"name": "Egen kod", "filled": 2}]
    issues = pl.DataFrame(metadata["issues"], schema=ISSUE_SCHEMA)
    assert issues.select("row", "column", "rule").rows() == [(None, "Egen kod", "local_variable")]


def test_metadata_of_the_xlsx_variant(folder):
    _, metadata = ingest_file(variant_xlsx_per_option(folder), ROUND, KEY)
    assert {k: metadata[k] for k in ("file", "round", "format", "sheet", "header_row", "encoding", "delimiter")} == {
        "file": "2023-10-10/enhet_a.xlsx",
        "round": "2023-10-10",
        "format": "xlsx",
        "sheet": "Export",
        "header_row": 3,
        "encoding": None,
        "delimiter": None,
    }
    columns = metadata["columns"]
    assert columns["Klient (4)"] == "personal"
    assert columns["Handläggare (3)"] == "personal"
    assert columns["Klientförslag till förbättringar (217)"] == "personal"
    assert columns["Datum för aktualisering (5)"] == "opened"
    assert columns["Stöd och insatser från socialtjänsten (118): Praktiskt stöd"] == "interventions"
    assert columns["58_2"] == "perpetrator"
    assert columns["Skattning risk (90) 2 skattning"] == "risk_2_rating"
    assert columns["Stöd och insatser – Kommentar"] == "comment"
    assert columns["Egen kod"] == "local"


@pytest.mark.parametrize(
    ("variant", "encoding", "delimiter", "header_row"),
    [
        ("csv_semicolon_bom_crlf", "utf-8-sig", ";", 1),
        ("csv_comma_cp1252_lf", "cp1252", ",", 2),
        ("csv_tab_utf8", "utf-8", "\t", 1),
    ],
)
def test_csv_encoding_and_delimiter_are_detected(folder, variant, encoding, delimiter, header_row):
    _, metadata = ingest_file(VARIANTS[variant][0](folder), ROUND, KEY)
    assert (metadata["format"], metadata["encoding"], metadata["delimiter"], metadata["header_row"]) == (
        "csv",
        encoding,
        delimiter,
        header_row,
    )
    assert metadata["sheet"] is None


def test_quoted_comment_with_delimiter_and_newline_keeps_line_numbers(folder):
    path = variant_csv_semicolon_bom_crlf(folder)
    assert b'"Hemlig kommentar; med, avgr' in path.read_bytes()  # really quoted and multi-line
    frame, _ = ingest_file(path, ROUND, KEY)
    # header line 1; case 1 on lines 2-3 (newline inside quotes); empty line 4; then 5, 6
    assert frame.get_column("row").to_list() == [2, 5, 6]
    assert frame.get_column("comments").to_list() == [1, 0, 1]


def test_cp1252_text_is_decoded(folder):
    path = variant_csv_comma_cp1252_lf(folder)
    assert "Höör".encode("cp1252") in path.read_bytes()
    frame, _ = ingest_file(path, ROUND, KEY)
    assert frame.get_column("municipality").to_list() == ["Höör"] * 3


# ------------------------------------------------------------------ headers


@pytest.mark.parametrize(
    ("header", "role", "target", "code"),
    [
        ("Datum för aktualisering (5)", "variable", "opened", None),
        ("Datum för aktualisering", "variable", "opened", None),
        ("(5)", "variable", "opened", None),
        ("V5", "variable", "opened", None),
        ("v5", "variable", "opened", None),
        ("  DATUM FOR AKTUALISERING  ", "variable", "opened", None),
        ("Aktualiseringsdatum", "variable", "opened", None),
        ("Datum för aktualisering (V5)", "variable", "opened", None),
        ("(5) Datum för aktualisering", "variable", "opened", None),
        ("5. Datum för aktualisering", "variable", "opened", None),
        ("V5 Datum för aktualisering", "variable", "opened", None),
        ("14 Datum för aktualisering", "local", None, None),
        ("Klient-id", "personal", "client", None),
        ("Klientförslag (217)", "personal", "survey_suggestions", None),
        ("Stöd och insatser från socialtjänsten (118): Praktiskt stöd", "option", "interventions", "1"),
        ("Stöd och insatser: Familjehemsplacering, familj med hederskompetens", "option", "interventions", "16"),
        ("118_4", "option", "interventions", "4"),
        ("Funktionsnedsättning (19): Vet ej", "option", "impairment", "5"),
        ("Funktionsnedsattning: vet inte", "option", "impairment", "5"),
        ("Stöd och insatser (118): 4. Stödsamtal (enskilt)", "option", "interventions", "4"),
        ("Samverkan (127): Annan (ange i kommentar)", "option", "collaboration", "9"),
        ("Skattning risk 2 datum", "risk", "risk_2_date", None),
        ("Skattning risk (90) 2 instrument", "risk", "risk_2_instrument", None),
        ("Skattning risk 10 skattning (90)", "risk", "risk_10_rating", None),
        ("Stöd och insatser – Kommentar", "comment", None, None),
        ("Stöd och insatser - Kommentar", "comment", None, None),
        ("Kommentar (118)", "comment", None, None),
        ("Kommentar", "comment", None, None),
        ("Egen kod", "local", None, None),
        ("Kön (15)", "local", None, None),  # label and number disagree: not trusted
        ("Skattning risk 11 datum", "local", None, None),  # beyond max_repeats
        ("118_99", "local", None, None),
        ("", "blank", None, None),
    ],
)
def test_header_recognition(header, role, target, code):
    r = classify_header(header)
    assert (r.role, r.target, r.code) == (role, target, code)


def test_sheet_named_data_is_preferred_else_the_first(folder):
    head = ["Klient", "Datum för aktualisering"]
    write_xlsx(
        folder / "a.xlsx",
        head,
        [["K1", "2022-01-01"]],
        sheet="Data",
        sheets_before=[("Blad1", [head, ["K9", "2021-01-01"], ["K8", "2021-01-02"]])],
    )
    frame, metadata = ingest_file(folder / "a.xlsx", ROUND, KEY)
    assert (metadata["sheet"], frame.height) == ("Data", 1)
    write_xlsx(folder / "b.xlsx", head, [["K1", "2022-01-01"]], sheet="Första", sheets_before=[])
    assert ingest_file(folder / "b.xlsx", ROUND, KEY)[1]["sheet"] == "Första"


def test_excel_cells_become_text(folder):
    head = [
        "Klient",
        "Datum för aktualisering",
        "Datum för avslut",
        "Ålder",
        "Avslutsdatum (256)",
        "Samverkan (127): Polisen",
        "Kön",
    ]
    head[2] = "Datum för när stödet/insatsen påbörjades"
    rows = [
        ["K1", date(2022, 3, 5), datetime(2022, 3, 6, 13, 30), 34.0, 44625, True, 2],
        [123, "2022-03-05 00:00:00", None, 34.5, "20220305", False, " Kvinna "],
    ]
    frame, _ = ingest_file(write_xlsx(folder / "a.xlsx", head, rows), ROUND, KEY)
    assert frame.select("opened", "support_started", "age", "closed", "collaboration", "sex").rows() == [
        ("2022-03-05", "2022-03-06 13:30:00", "34", "44625", ["5"], "2"),
        ("2022-03-05", None, "34.5", "20220305", None, "Kvinna"),
    ]
    assert frame.get_column("client_key").to_list() == [pseudonym("K1", KEY), pseudonym("123", KEY)]


def test_list_layout_keeps_labels_that_contain_commas(folder):
    head = ["Klient", "Datum för aktualisering", "Stöd och insatser"]
    rows = [
        ["K1", "2022-01-01", "Familjehemsplacering, familj med hederskompetens, Skyddat boende"],
        ["K2", "2022-01-01", "16. familjehemsplacering,familj med hederskompetens;2 ; ;"],
        ["K3", "2022-01-01", " ; "],
        ["K4", "2022-01-01", "Praktiskt stöd, Okänt alternativ"],
    ]
    frame, metadata = ingest_file(write_csv(folder / "a.csv", head, rows), ROUND, KEY)
    assert frame.get_column("interventions").to_list() == [
        ["Familjehemsplacering, familj med hederskompetens", "Skyddat boende"],
        ["16. familjehemsplacering, familj med hederskompetens", "2"],
        None,
        ["Praktiskt stöd", "Okänt alternativ"],  # clean reports the unknown token
    ]
    assert metadata["variable_columns"]["interventions"] == "Stöd och insatser"


def test_excel_sep_hint_line_and_header_only_file(folder):
    # a header and no cases: unreadable as an export (on_unreadable_file decides), with advice
    data = "sep=;\r\nKlient;Datum för aktualisering;Kön\r\n".encode()
    (folder / "s.csv").write_bytes(data)
    with pytest.raises(IngestError, match=r"har en rubrikrad \(rad 2\) men inga ärenden"):
        ingest_file(folder / "s.csv", ROUND, KEY)
    (folder / "t.csv").write_bytes(data + b"K1;2022-01-01;1\r\n")
    frame, metadata = ingest_file(folder / "t.csv", ROUND, KEY)
    assert (frame.height, metadata["rows_read"], metadata["header_row"], metadata["delimiter"]) == (1, 1, 2, ";")


def test_risk_groups_fill_missing_fields(folder):
    head = ["Klient", "Datum för aktualisering", "Skattning risk 3 skattning"]
    frame, _ = ingest_file(write_csv(folder / "a.csv", head, [["K1", "2022-01-01", "5"]]), ROUND, KEY)
    assert frame.select("risk_3_date", "risk_3_instrument", "risk_3_rating").rows() == [(None, None, "5")]
    assert "risk_1_date" not in frame.columns


# ------------------------------------------------------------------ defects


def message_of(path: Path) -> str:
    with pytest.raises(IngestError) as error:
        ingest_file(path, ROUND, KEY)
    assert error.value.file == f"{path.parent.name}/{path.name}"
    return str(error.value)


def test_corrupt_xlsx(folder):
    path = folder / "trasig.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"inte en arbetsbok" * 20)
    message = message_of(path)
    assert "Filen 2023-10-10/trasig.xlsx kunde inte läsas som en Excel-arbetsbok" in message
    assert "exportera på nytt" in message


def test_truncated_xlsx(folder):
    good = variant_xlsx_per_option(folder)
    path = folder / "halv.xlsx"
    path.write_bytes(good.read_bytes()[:2000])
    assert "kunde inte läsas som en Excel-arbetsbok" in message_of(path)


@pytest.mark.parametrize("name", ["tom.csv", "tom.xlsx"])
def test_zero_byte_file(folder, name):
    path = folder / name
    path.write_bytes(b"")
    assert message_of(path) == (
        f"Filen 2023-10-10/{name} är tom (0 byte). Exportera på nytt från SUreg och skicka filen igen."
    )


def test_file_with_only_blank_lines(folder):
    path = folder / "blank.csv"
    path.write_bytes(b"\r\n  \r\n;;;\r\n")
    assert "ingen rubrikrad hittades" in message_of(path)
    (folder / "ws.csv").write_bytes(b"\r\n \n")
    assert "Filen 2023-10-10/ws.csv är tom" in message_of(folder / "ws.csv")


def test_binary_junk(folder):
    path = folder / "skrap.csv"
    path.write_bytes(bytes(range(256)) * 8)
    assert message_of(path).startswith("Filen 2023-10-10/skrap.csv är ingen textfil")


def test_unknown_extension(folder):
    path = folder / "export.prn"
    path.write_text("Klient;Datum för aktualisering\nK1;2022-01-01\n")
    assert message_of(path) == (
        "Filen 2023-10-10/export.prn har filändelsen .prn, som inte kan läsas. Skicka exporten som .xlsx eller .csv."
    )


def test_a_zip_file_is_told_to_be_unpacked(folder):
    path = folder / "exporter.zip"
    path.write_bytes(b"PK\x03\x04")
    assert message_of(path) == (
        "Filen 2023-10-10/exporter.zip är en zip-fil. Packa upp den i omgångsmappen; exporterna i den läses då."
    )


def test_header_missing(folder):
    path = write_csv(folder / "utan_rubrik.csv", ["K1", "2022-01-01", "1"], [["K2", "2022-02-01", "2"]])
    message = message_of(path)
    assert message.startswith("Filen 2023-10-10/utan_rubrik.csv: ingen rubrikrad hittades")
    assert "K1" not in message and "K2" not in message


def test_key_column_missing(folder):
    path = write_csv(folder / "utan_klient.csv", ["Kön", "Datum för aktualisering (5)"], [["1", "2022-01-01"]])
    message = message_of(path)
    assert message.startswith("Filen 2023-10-10/utan_klient.csv saknar kolumnen Klient (4)")
    assert "rubrikraden är rad 1" in message
    path = write_xlsx(folder / "utan_datum.xlsx", ["Klient"], [["K1"]], title_rows=[["Titel"]])
    assert "saknar kolumnen Datum för aktualisering (5)" in message_of(path)


def test_duplicated_variable_column_is_a_located_error(folder):
    path = write_csv(
        folder / "dubbel.csv",
        ["Klient (4)", "Datum för aktualisering", "Kön", "Klient-id"],
        [[CLIENTS[0], "2022-01-01", "1", CLIENTS[1]]],
    )
    message = message_of(path)
    assert message == (
        'Filen 2023-10-10/dubbel.csv: kolumnerna "Klient (4)" (kolumn 1) och "Klient-id" (kolumn 4) '
        "på rubrikrad 1 anger båda variabeln Klient (4). Ta bort eller byt namn på den ena kolumnen."
    )
    path = write_csv(
        folder / "dubbel_alt.csv",
        ["Klient", "Datum för aktualisering", "118_4", "Stöd och insatser (118): Stödsamtal (enskilt)"],
        [],
    )
    assert "svarsalternativ 4" in message_of(path)


def test_xlsx_errors_name_the_column_letter_and_sheet_row(folder):
    # leading empty rows and columns: calamine starts its range at C3, the unit sees C, E and row 5
    head = [None, None, "Klient", "Datum för aktualisering", "Klient-id"]
    path = write_xlsx(
        folder / "b.xlsx",
        head,
        [[None, None, CLIENTS[0], "2022-01-01"]],
        title_rows=[None, None, [None, None, "Titel"], None],
    )
    assert message_of(path) == (
        'Filen 2023-10-10/b.xlsx, fliken "Blad1": kolumnerna "Klient" (kolumn C) och "Klient-id" (kolumn E) '
        "på rubrikrad 5 anger båda variabeln Klient (4). Ta bort eller byt namn på den ena kolumnen."
    )


def test_leading_empty_rows_count_in_row_numbers(folder):
    head = ["Klient", "Datum för aktualisering", None, "Egen"]
    path = write_xlsx(
        folder / "c.xlsx",
        head,
        [["K1", "2022-01-01", "x", None], ["K2", "2022-01-02"]],
        title_rows=[None, ["Titel"], None],
    )
    frame, metadata = ingest_file(path, ROUND, KEY)
    assert metadata["header_row"] == 4
    assert frame.get_column("row").to_list() == [5, 6]
    assert metadata["local_variables"] == [
        {"name": "(kolumn C utan rubrik)", "filled": 1},
        {"name": "Egen", "filled": 0},
    ]


def test_cp1252_file_with_a_stray_bom(folder):
    data = b"\xef\xbb\xbf" + "Klient;Datum för aktualisering;Kommun\nK1;2022-01-01;Malmö\n".encode("cp1252")
    (folder / "bom.csv").write_bytes(data)
    frame, metadata = ingest_file(folder / "bom.csv", ROUND, KEY)
    assert metadata["encoding"] == "cp1252"
    assert frame.get_column("municipality").to_list() == ["Malmö"]


def test_unknown_per_option_mark_is_an_issue(folder):
    head = ["Klient", "Datum för aktualisering", "118_1", "Stöd och insatser (118): Ekonomiskt stöd"]
    rows = [["K1", "2022-01-01", "X", "kanske"], ["K2", "2022-01-02", "nej", "TRUE"], ["K3", "2022-01-03", "?", "0"]]
    frame, metadata = ingest_file(write_csv(folder / "a.csv", head, rows), ROUND, KEY)
    assert frame.get_column("interventions").to_list() == [["1"], ["2"], None]
    issues = pl.DataFrame(metadata["issues"], schema=ISSUE_SCHEMA)
    expected = pl.DataFrame(
        {
            "file": ["2023-10-10/a.csv"] * 2,
            "row": [2, 4],
            "column": ["Stöd och insatser (118): Ekonomiskt stöd", "118_1"],
            "variable": ["interventions"] * 2,
            "rule": ["unknown_value"] * 2,
            "value": ["(text med 6 tecken)", "?"],  # text described, a one-character mark shown
        },
        schema=ISSUE_SCHEMA,
    )
    assert_frame_equal(issues, expected)


def test_unreadable_round_folder_name(tmp_path):
    path = write_csv(tmp_path / "inte-datum" / "a.csv", ["Klient", "Datum för aktualisering"], [["K", "2022-01-01"]])
    with pytest.raises(IngestError, match="inte är ett datum"):
        write_ingest(path, tmp_path / "o.parquet", tmp_path / "o.json", KEY)


# ------------------------------------------------------------------ privacy


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_personal_text_reaches_the_outputs(folder, tmp_path, variant):
    path = VARIANTS[variant][0](folder)
    out_parquet, out_json = tmp_path / "out" / "x.parquet", tmp_path / "out" / "x.json"
    metadata = write_ingest(path, out_parquet, out_json, KEY)
    assert metadata["round"] == "2023-10-10"
    secrets = [*CLIENTS, HANDLER, COMMENT_118, COMMENT_58, SUGGESTION, "Hemlig", "Hemligt", "Öberg"]
    raw_bytes = out_parquet.read_bytes() + out_json.read_bytes()
    frame = pl.read_parquet(out_parquet)
    as_text = json.dumps(frame.to_dicts(), ensure_ascii=False) + " ".join(frame.columns)
    as_text += out_json.read_text(encoding="utf-8")
    for secret in secrets:
        for encoded in {secret.encode("utf-8"), secret.encode("cp1252")}:
            assert encoded not in raw_bytes, secret
        assert secret.lower() not in as_text.lower(), secret


def test_errors_never_show_personal_cells(folder):
    head = ["Klient", "Klient-id", "Datum för aktualisering", "Kommentar"]
    path = write_xlsx(folder / "a.xlsx", head, [[CLIENTS[0], CLIENTS[1], "2022-01-01", COMMENT_58]])
    message = message_of(path)
    for secret in (CLIENTS[0], CLIENTS[1], COMMENT_58):
        assert secret not in message


def test_a_3000_row_file_is_read(folder):
    head, rows = build_rows(LABEL_NR, typed=False, multi=list_multi(";"))
    many = [[*r[:3], f"K{i}", *r[4:]] for i in range(1000) for r in rows]
    path = folder / "stor.csv"
    path.write_bytes(csv_bytes(head, many))
    frame, metadata = ingest_file(path, ROUND, KEY)
    assert (frame.height, metadata["rows_read"]) == (3000, 3000)
    # every case 1 has a comment with a line break: 4 lines per 3 records
    assert frame.get_column("row").to_list() == [4 * g + d for g in range(1000) for d in (2, 4, 5)]


def test_utf16_unicode_text_export_is_read(folder):
    (folder / "u.csv").write_bytes(
        csv_bytes(
            ["Klient", "Datum för aktualisering", "Kommun"],
            [["K1", "2022-01-01", "Malmö"]],
            delimiter="\t",
            encoding="utf-16",
        )
    )
    frame, metadata = ingest_file(folder / "u.csv", ROUND, KEY)
    assert (metadata["encoding"], metadata["delimiter"]) == ("utf-16", "\t")
    assert frame.get_column("municipality").to_list() == ["Malmö"]


@given(
    st.lists(st.sampled_from(CB["interventions"].options), min_size=1, max_size=6, unique=True),
    st.sampled_from([";", ",", "; ", ", ", " ;", " , "]),
    st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_list_tokens_round_trip_any_labels(options, separator, with_code):
    cell = separator.join(f"{o.code}. {o.label}" if with_code else o.label for o in options)
    tokens = pl.select(split_multi_tokens(pl.lit(cell, pl.String))).item()
    expected = [f"{o.code}. {o.label}" if with_code else o.label for o in options]
    assert tokens.to_list() == expected


@given(
    comments=st.lists(st.text(alphabet='abåäöÅÖé ;,\t"\r\n', max_size=12), min_size=1, max_size=5),
    delimiter=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    newline=st.sampled_from(["\r\n", "\n"]),
)
@settings(max_examples=40, deadline=None)
def test_csv_records_start_on_the_right_line(tmp_path_factory, comments, delimiter, encoding, newline):
    folder = tmp_path_factory.mktemp("2023-10-10")
    rows = [[f"K{i}", "2022-01-01", c] for i, c in enumerate(comments)]
    path = folder / "p.csv"
    path.write_bytes(
        csv_bytes(
            ["Klient", "Datum för aktualisering", "Kommentar"],
            rows,
            delimiter=delimiter,
            encoding=encoding,
            newline=newline,
        )
    )
    frame, metadata = ingest_file(path, ROUND, KEY)
    expected_rows, line = [], 2
    for c in comments:
        expected_rows.append(line)
        line += 1 + len(re.findall(r"\r\n|\r|\n", c))
    assert (metadata["delimiter"], metadata["encoding"]) == (delimiter, encoding)  # the header has "ö"
    assert frame.get_column("row").to_list() == expected_rows
    assert frame.get_column("comments").to_list() == [int(bool(c.strip())) for c in comments]


# --- screening: personal numbers, Excel errors, shifted CSV records -------------------

SCREEN_HEAD = ["Klient", "Datum för aktualisering", "Kön", "Ålder", "Utövare av våldet (58)", "Kommentar (58)"]


def _issues(metadata) -> list[tuple]:
    issues = pl.DataFrame(metadata["issues"], schema=ISSUE_SCHEMA)
    return issues.select("row", "column", "rule", "value").rows()


@pytest.mark.parametrize("number", ["19850412-1234", "850412-1234", "198504121234", "850472-1234", "pnr 8504121234"])
def test_a_personal_number_in_a_national_field_is_removed_and_located(folder, number):
    rows = [["K1", "2022-01-01", "1", number, "1", ""], ["K2", "2022-01-02", number, "34", f"1;{number}", ""]]
    frame, metadata = ingest_file(write_csv(folder / "a.csv", SCREEN_HEAD, rows), ROUND, KEY)
    assert frame.get_column("age").to_list() == [None, "34"]
    assert frame.get_column("sex").to_list() == ["1", None]
    assert frame.get_column("perpetrator").to_list() == [["1"], None]
    assert _issues(metadata) == [
        (2, "Ålder", "personal_identity_number", None),
        (3, "Kön", "personal_identity_number", None),
        (3, "Utövare av våldet (58)", "personal_identity_number", None),
    ]
    assert number not in json.dumps(metadata, ensure_ascii=False)
    assert not any(number in str(v) for v in frame.to_dicts())


@pytest.mark.parametrize("error", ["#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"])
def test_an_excel_error_value_is_its_own_located_issue(folder, error):
    # typed as text in a csv, or a real error cell (a formula's cached error) in a workbook
    rows = [["K1", "2022-01-01", error, "34", "1", ""]]
    frame, metadata = ingest_file(write_csv(folder / "a.csv", SCREEN_HEAD, rows), ROUND, KEY)
    assert frame.get_column("sex").to_list() == [None]
    assert _issues(metadata) == [(2, "Kön", "excel_error_value", None)]

    import xlsxwriter

    path = folder / "b.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, SCREEN_HEAD)
    sheet.write_row(1, 0, ["K1", "2022-01-01"])
    sheet.write_formula(1, 2, "=NA()", None, error)
    sheet.write_formula(1, 3, "=1/0", None, error)
    book.close()
    frame, metadata = ingest_file(path, ROUND, KEY)
    assert frame.select("sex", "age").row(0) == (None, None)
    assert _issues(metadata) == [(2, "Kön", "excel_error_value", None), (2, "Ålder", "excel_error_value", None)]


def test_a_workbook_whose_first_sheet_is_empty_is_read_from_the_sheet_that_holds_the_export(folder):
    path = write_xlsx(
        folder / "a.xlsx",
        SCREEN_HEAD,
        [["K1", "2022-01-01", "1", "34", "1", ""]],
        sheet="Blad2",
        sheets_before=[("Blad1", [])],
    )
    frame, metadata = ingest_file(path, ROUND, KEY)
    assert metadata["sheet"] == "Blad2" and frame.height == 1


def test_rows_keep_the_sheet_numbers_when_the_sheet_starts_below_row_1(folder):
    import xlsxwriter

    path = folder / "a.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(2, 1, SCREEN_HEAD)  # header in row 3, from column B
    sheet.write_row(3, 1, ["K1", "2022-01-01", "1", "gammal", "1", ""])
    book.close()
    frame, metadata = ingest_file(path, ROUND, KEY)
    assert frame.get_column("row").to_list() == [4] and metadata["header_row"] == 3


def test_a_csv_record_with_one_field_too_many_keeps_only_its_key(folder):
    # the comment "slog; sparkade" was not quoted, so every later field moved one column right
    data = (
        "Klient;Datum för aktualisering;Kommentar (58);Kön;Ålder\r\n"
        "K1;2022-01-01;hotade;1;34\r\n"
        "K2;2022-01-02;slog; sparkade;2;41\r\n"
    ).encode()
    path = folder / "a.csv"
    path.write_bytes(data)
    frame, metadata = ingest_file(path, ROUND, KEY)
    assert frame.get_column("extra_fields").to_list() == [False, True]
    assert frame.get_column("sex").to_list() == ["1", None] and frame.get_column("age").to_list() == ["34", None]
    assert frame.get_column("client_key").null_count() == 0 and frame.get_column("opened").to_list()[1] == "2022-01-02"
    assert " sparkade" not in json.dumps(metadata, ensure_ascii=False)


def test_an_export_in_a_sub_folder_of_a_round_is_named_from_the_round(tmp_path):
    path = write_csv(
        tmp_path / "2023-10-10" / "nedladdning" / "Export Boden.csv",
        SCREEN_HEAD,
        [["K1", "2022-01-01", "1", "34", "1", ""]],
    )
    frame, metadata = ingest_file(path, ROUND, KEY)
    assert metadata["file"] == "2023-10-10/nedladdning/Export Boden.csv" and frame.height == 1
