"""Peak memory and time of reading a 20-row export with one stray value far down
(cell A1048576) and, beside it, the same export without it. A measurement that
prints, never a test (issue 21: "a file of 20 rows costs what 20 rows cost").

    .venv/bin/python tests/support/measure_far_cell.py [near|far|far-right|corner]

Each case runs in a process of its own (ru_maxrss is the process's peak); without an
argument the script runs every case that way and prints one line per case.
"""

from __future__ import annotations

import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, where the support package is
from kvinnofrid.stages.ingest import ingest_file
from support.adversarial_corpus import BASE_HEADER, KEY, base_rows
from support.export_builders import patch_sheet_xml

CASES = {"near": None, "far": "A1048576", "far-right": "XFD25", "corner": "XFD1048576"}


def build(folder: Path, case: str) -> Path:
    path = folder / "2023-10-10" / f"{case}.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Blad1")
    sheet.write_row(0, 0, BASE_HEADER)
    for r, row in enumerate((base_rows() * 7)[:20], start=1):
        sheet.write_row(r, 0, [f"{v} {r}" if c == 3 else v for c, v in enumerate(row)])
    book.close()
    cell = CASES[case]
    if cell is not None:  # a value typed far away (written into the XML: xlsxwriter keeps it dense)
        row = "".join(ch for ch in cell if ch.isdigit())
        xml = f'<row r="{row}"><c r="{cell}" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'.encode()
        patch_sheet_xml(path, lambda data: data.replace(b"</sheetData>", xml))
    return path


def measure(case: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = build(Path(folder), case)
        start = time.perf_counter()
        _frame, meta = ingest_file(path, dt.date(2023, 10, 10), KEY)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{case:10s} rows read {meta['rows_read']:3d}  ingest {seconds:5.2f} s  peak memory {peak:6.0f} MB")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        measure(sys.argv[1])
    else:
        for name in CASES:
            subprocess.run([sys.executable, __file__, name], check=False)
