"""The tables as accessible workbooks (kvinnofrid.reporting.workbook): results/tabeller.xlsx
and results/kommuner/<slug>.xlsx, opened with openpyxl as a reader's program would.

The quick tests build the workbooks from the frozen national tables (tests/expected/tables)
and from a protected long table made here; the e2e tests read the pipeline's own files
and let LibreOffice open and re-save the national workbook."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from kvinnofrid.reporting import workbook as wbm
from kvinnofrid.reporting.markdown import shown_labels
from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.statistics.tables import TABLE_SCHEMA

EXPECTED = Path(__file__).parent / "expected" / "tables"
PERIOD = ("2022-01-01", "2023-10-10")
CUTOFF = dt.date(2023, 10, 10)
T = 5
VALUE_HEADERS = {wbm.HEADERS[c]: c for c in ("n", "denominator", "share", "ci_low", "ci_high", "mean")}


def expected_tables() -> dict[int, pl.DataFrame]:
    return {n: pl.read_csv(EXPECTED / f"diagram_{n:02d}.csv", schema=TABLE_SCHEMA) for n in load_registry().numbers}


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wb") / "tabeller.xlsx"
    wbm.national_workbook(expected_tables(), path, period=PERIOD, cutoff=CUTOFF, demo=True)
    return path


def sheet_table(ws) -> tuple[list[str], list[list]]:
    """The header and the rows of the one Excel table on a sheet, as cells."""
    (table,) = ws.tables.values()
    rows = list(ws[table.ref])
    return [c.value for c in rows[0]], [list(r) for r in rows[1:]]


def test_sheets_are_cover_contents_notes_then_one_per_diagram(national):
    wb = openpyxl.load_workbook(national)
    numbers = load_registry().numbers
    assert wb.sheetnames == ["Omslag", "Innehåll", "Noter"] + [f"D{n:02d}" for n in numbers]
    cover = [c.value for c in wb["Omslag"]["A"] if c.value]
    assert cover[0].startswith(wbm.TITLE)
    text = " ".join(cover)
    for needle in (PERIOD[0], PERIOD[1], f"Brytdatum: {CUTOFF}", "Källa:", "Kontakt", "Demodata"):
        assert needle in text, needle
    header, rows = sheet_table(wb["Innehåll"])
    assert header == ["Blad", "Innehåll"]
    assert [r[0].value for r in rows] == ["Noter"] + [f"D{n:02d}" for n in numbers]
    assert all(r[0].hyperlink is not None and r[0].hyperlink.location for r in rows)


def test_each_diagram_sheet_has_its_registry_title_in_a1_and_every_table_row(national):
    wb = openpyxl.load_workbook(national)
    reg = load_registry()
    for n, table in expected_tables().items():
        ws = wb[f"D{n:02d}"]
        assert ws["A1"].value.startswith(f"Diagram {n}. {reg[n].title}"), n
        assert ws["A2"].value and ws["A2"].value.startswith("Tabellen visar")
        assert any("Källa" in (c.value or "") for c in ws["A"][:6])
        header, rows = sheet_table(ws)
        assert len(rows) == table.height, n
        # the labels a reader sees: the form's "Annan (ange i kommentar)" is "Annan aktör"
        assert [r[header.index("Kategori")].value for r in rows] == shown_labels(table)["category"].to_list()
        assert not any("ange i kommentar" in str(r[header.index("Kategori")].value) for r in rows)


def test_no_merged_cells_and_no_blank_row_or_column_inside_a_table(national):
    wb = openpyxl.load_workbook(national)
    for ws in wb.worksheets:
        assert not ws.merged_cells.ranges, ws.title
        if ws.title == "Omslag":
            continue
        header, rows = sheet_table(ws)
        assert all(isinstance(h, str) and h for h in header) and len(set(header)) == len(header)
        for r in rows:
            assert all(c.value not in (None, "") for c in r), (ws.title, [c.value for c in r])
        # the table sits right under the text above it: no empty row between
        top = ws.tables[next(iter(ws.tables))].ref.split(":")[0]
        first = int("".join(ch for ch in top if ch.isdigit()))
        assert all(ws.cell(row, 1).value for row in range(1, first)), ws.title


def test_numbers_are_numbers_with_the_number_formats_and_equal_the_tables(national):
    wb = openpyxl.load_workbook(national)
    reg = load_registry()
    for n, table in expected_tables().items():
        header, rows = sheet_table(wb[f"D{n:02d}"])
        for h, column in VALUE_HEADERS.items():
            if h not in header:
                assert column not in wbm.value_columns(reg[n].table), (n, h)
                continue
            cells = [r[header.index(h)] for r in rows]
            assert all(c.data_type == "n" for c in cells), (n, h)
            if column in ("n", "denominator"):
                assert all(isinstance(c.value, int) and c.number_format == wbm.COUNT for c in cells)
            elif column == "share" or (column.startswith("ci") and reg[n].table != "means"):
                assert all(c.number_format == wbm.PERCENT for c in cells), (n, h)
            else:
                assert all(c.number_format == wbm.DECIMAL for c in cells), (n, h)
            assert [c.value for c in cells] == pytest.approx(table[column].to_list(), rel=1e-12), (n, h)


def test_notes_are_numbered_in_order_and_every_reference_is_explained(national):
    wb = openpyxl.load_workbook(national)
    _header, rows = sheet_table(wb["Noter"])
    keys = [r[0].value for r in rows]
    numbered = [k for k in keys if k.startswith("[not ")]
    assert numbered == [f"[not {k}]" for k in range(1, len(numbered) + 1)]
    texts = " ".join(r[1].value for r in rows)
    assert "mer än 100 %" in texts and "Bas (N)" in texts
    refs = {ref for ws in wb.worksheets[3:] for ref in _refs(ws["A1"].value)}
    assert refs == set(numbered)
    reg = load_registry()
    for d in reg.diagrams:  # the multi-choice note on exactly the multi-choice diagrams
        multi = next(r[0].value for r in rows if r[1].value.startswith(reg.multi_note))
        assert (multi in _refs(wb[f"D{d.number:02d}"]["A1"].value)) == d.multi, d.number


def _refs(title: str) -> list[str]:
    return [f"[not {part.split(']')[0]}]" for part in title.split("[not ")[1:]]


def test_the_same_tables_give_a_byte_identical_workbook(national, tmp_path):
    again = wbm.national_workbook(expected_tables(), tmp_path / "igen.xlsx", period=PERIOD, cutoff=CUTOFF, demo=True)
    assert again.read_bytes() == national.read_bytes()


def test_without_demo_data_the_cover_does_not_say_demo(tmp_path):
    path = wbm.national_workbook(expected_tables(), tmp_path / "t.xlsx", period=PERIOD, cutoff=CUTOFF, demo=False)
    cover = " ".join(c.value for c in openpyxl.load_workbook(path)["Omslag"]["A"] if c.value)
    assert "Demodata" not in cover and "simulerade" not in cover


# ---------------------------------------------------------------- a unit's workbook

UNIT, CLASS = "Småby", "Under 15 000 invånare"
AREAS = [
    {"kind": "riket", "name": "Riket", "slug": "riket", "units": [UNIT, "Mellanby"]},
    {"kind": "storleksklass", "name": CLASS, "slug": "under-15-000-invanare", "units": [UNIT, "Mellanby"]},
    {"kind": "enhet", "name": UNIT, "slug": "smaby", "units": [UNIT], "size_class": CLASS},
]
TABLES = ["2", "8", "16", "toppgrupp"]


def _protected(table: pl.DataFrame, divisor: int) -> pl.DataFrame:
    """A small area's table made from a national one, suppressed as protect() leaves it:
    n, share and interval empty where n is below T (and on the row beside it)."""
    small = (table["n"] // divisor).alias("n")
    below = small < T
    hidden = below | below.shift(-1, fill_value=False)
    reason = pl.Series([("under_troskel" if b else "skyddar_annat") if h else None for b, h in zip(below, hidden)])
    return table.with_columns(
        small,
        (pl.col("denominator") // divisor),
        pl.Series("suppressed", hidden),
        reason.alias("hidden_reason"),
        pl.lit(None, pl.String).alias("denominator_reason"),
    ).with_columns(
        *[
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("n", "share", "ci_low", "ci_high")
        ]
    )


def protected_long() -> pl.DataFrame:
    national = expected_tables()
    top = national[1].head(2).with_columns(pl.Series("category", ["Toppgrupp", "Övriga avslutade ärenden"]))
    frames = []
    for table_id in TABLES:
        base = top if table_id == "toppgrupp" else national[int(table_id)]
        for kind, name, divisor in (("riket", "Riket", 1), ("storleksklass", CLASS, 10), ("enhet", UNIT, 300)):
            part = base if divisor == 1 else _protected(base, divisor)
            frames.append(
                part.select(
                    pl.lit(table_id).alias("table"),
                    pl.lit(kind).alias("area_kind"),
                    pl.lit(name).alias("area"),
                    *TABLE_SCHEMA.names(),
                    *[
                        pl.col(c) if c in part.columns else pl.lit(None, pl.String).alias(c)
                        for c in ("hidden_reason", "denominator_reason")
                    ],
                )
            )
    return pl.concat(frames)


@pytest.fixture(scope="module")
def unit_book(tmp_path_factory) -> tuple[Path, pl.DataFrame]:
    long = protected_long()
    path = tmp_path_factory.mktemp("wb-unit") / "smaby.xlsx"
    wbm.area_workbook(
        long, AREAS[2], AREAS, path, table_ids=TABLES, period=PERIOD, cutoff=CUTOFF, threshold=T, demo=False
    )
    return path, long


def test_workbooks_say_they_are_in_swedish(national, unit_book):
    """The language in the core properties (what Excel shows under Egenskaper, and what a
    screen reader reads the text as), in both kinds of workbook."""
    for path in (national, unit_book[0]):
        assert openpyxl.load_workbook(path).properties.language == "sv-SE"
        with zipfile.ZipFile(path) as book:
            assert zipfile.ZipFile(path).testzip() is None
            assert book.read("docProps/core.xml").count(b"<dc:language>sv-SE</dc:language>") == 1


def test_a_units_workbook_sets_the_unit_beside_its_size_class_and_the_country(unit_book):
    path, long = unit_book
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Omslag", "Innehåll", "Noter", "D02", "D08", "D16", "Toppgrupp"]
    assert UNIT in wb["Omslag"]["A1"].value
    for table_id, sheet in zip(TABLES, wb.sheetnames[3:], strict=True):
        header, rows = sheet_table(wb[sheet])
        assert header[0] == "Område"
        areas = [r[0].value for r in rows]
        per_area = long.filter(pl.col("table") == table_id).height // 3
        assert (
            areas
            == [UNIT] * per_area + [f"Kommuner med {CLASS[0].lower()}{CLASS[1:]}"] * per_area + ["Riket"] * per_area
        )
        assert not wb[sheet].merged_cells.ranges


def test_a_hidden_cell_is_marked_and_never_a_number_and_the_shown_ones_are_the_tables(unit_book):
    path, long = unit_book
    wb = openpyxl.load_workbook(path)
    marked = 0
    for table_id, sheet in zip(TABLES, wb.sheetnames[3:], strict=True):
        header, rows = sheet_table(wb[sheet])
        truth = pl.concat(
            [long.filter((pl.col("table") == table_id) & (pl.col("area") == a)) for a in (UNIT, CLASS, "Riket")]
        )
        assert len(rows) == truth.height
        for cells, row in zip(rows, truth.iter_rows(named=True), strict=True):
            for h, column in VALUE_HEADERS.items():
                if h not in header:
                    continue
                cell = cells[header.index(h)]
                if row[column] is None:
                    reason = row.get("denominator_reason" if column == "denominator" else "hidden_reason")
                    code = wbm.SMALL if reason == "under_troskel" else wbm.SUPPRESSED
                    assert cell.value == (code if row["suppressed"] or reason else wbm.NOT_AVAILABLE)
                    assert cell.data_type == "s"
                    marked += row["suppressed"]
                else:
                    assert cell.data_type == "n" and cell.value == pytest.approx(row[column], rel=1e-12)
    assert marked > 5
    header, rows = sheet_table(wb["Noter"])
    explained = {r[0].value: r[1].value for r in rows}
    assert f"Färre än {T}" in explained[wbm.SMALL] and "skydda ett annat värde" in explained[wbm.SUPPRESSED]
    for sheet in wb.sheetnames[3:]:  # the text above a table says so where it hides cells, per mark
        header, rows = sheet_table(wb[sheet])
        for code in (wbm.SMALL, wbm.SUPPRESSED):
            uses = any(c.value == code for r in rows for c in r)
            told = any(f"markerade {code}" in (c.value or "") for c in wb[sheet]["A"][:5])
            assert uses == told, (sheet, code)


def test_a_unit_workbook_is_byte_identical_when_rebuilt(unit_book, tmp_path):
    path, long = unit_book
    again = wbm.area_workbook(
        long,
        AREAS[2],
        AREAS,
        tmp_path / "igen.xlsx",
        table_ids=TABLES,
        period=PERIOD,
        cutoff=CUTOFF,
        threshold=T,
        demo=False,
    )
    assert again.read_bytes() == path.read_bytes()


def test_a_missing_area_table_stops_with_a_swedish_message(tmp_path):
    long = protected_long().filter(~((pl.col("table") == "8") & (pl.col("area") == CLASS)))
    with pytest.raises(ValueError, match="tabell 8 saknas för"):
        wbm.area_workbook(
            long,
            AREAS[2],
            AREAS,
            tmp_path / "x.xlsx",
            table_ids=TABLES,
            period=PERIOD,
            cutoff=CUTOFF,
            threshold=T,
            demo=False,
        )


# ---------------------------------------------------------------- end to end


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

    from conftest import run_snakemake

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
