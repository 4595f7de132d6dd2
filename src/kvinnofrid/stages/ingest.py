"""Ingest: one raw municipal export (``.xlsx`` or ``.csv``) → a raw frame + metadata.

The contract is ``docs/data-contract.md`` (what a file may look like) and the
"ingest" section of ``docs/stages.md`` (what comes out). Everything stays text here; the
``clean`` stage parses values. What ingest does:

* reads the sheet (``Export``/``Data`` if present, else the first) or the CSV
  (delimiter ``;`` ``,`` or tab and encoding UTF-8 / UTF-8 with BOM / Windows-1252
  detected, CRLF or LF, quoted fields with delimiters and line breaks);
* finds the header row by its content among the first rows (title rows above it);
* recognises every column by the codebook (label, alias, SUV number, both), including
  one-column-per-option multi-choice layouts, repeated risk groups and comments;
* replaces Klient (4) and Handläggare (3) by keyed pseudonyms, counts comments and
  Klientförslag (217), and drops their text: the clear text of a personal or comment
  cell never reaches the frame, the metadata, a log line or an exception message;
* keeps local variables out of the frame but lists them in the metadata.

Row numbers are what the unit sees: the spreadsheet row (1-based, title rows included)
or the physical line where a CSV record starts (the header line counts).

Issues ingest emits (``rules.ISSUE_SCHEMA`` rows in the metadata's ``issues``):
``local_variable`` (one per local column: ``row`` null, ``column`` = its header) and
``unknown_value`` (a one-column-per-option cell that is neither a chosen nor a
not-chosen mark of the codebook, compared without regard to case: ``row``, ``column``,
``variable``, ``value`` truncated). Unknown tokens of list columns and every other value
check are clean's. Everything that makes a file unreadable raises :class:`IngestError`.

Excel serial numbers in text or number cells of date columns are **left as text**
(``44625``); ``clean`` parses them like every other date spelling. Excel date cells
(a number with a date format) are rendered ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM:SS`` when
the time is not midnight).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl

from kvinnofrid.errors import UserFacingError
from kvinnofrid.spec import codebook as cbm
from kvinnofrid.spec.codebook import normalise
from kvinnofrid.stages.pseudonym import pseudonymise
from kvinnofrid.stages.rawfiles import round_folder_of
from kvinnofrid.stages.redaction import EXCEL_ERRORS, looks_like_personal_number, personal_number_expr, shown_value

log = logging.getLogger(__name__)

__all__ = [
    "HEADER_SEARCH_ROWS",
    "ColumnRole",
    "IngestError",
    "classify_header",
    "ingest_file",
    "read_export",
    "split_multi_tokens",
    "write_ingest",
]

#: Rows at the top of a sheet/file searched for the header (up to 5 title rows + margin).
HEADER_SEARCH_ROWS = 10
_CSV_DELIMITERS = (";", ",", "\t")
_PLACEHOLDER = "\ue000"  # stands for a comma inside a known option label while splitting
_EXCEL_EXTENSIONS = (".xlsx", ".xlsm")
_CSV_EXTENSIONS = (".csv",)


class IngestError(UserFacingError):
    """A file that cannot be read. The message (Swedish) names the file, the problem
    and what to do; it never contains a personal or comment cell value. ``file`` is the
    file's path relative to the raw-data folder (``<round>/<name>``), for the quality
    summary when the run is configured to skip unreadable files."""

    def __init__(self, message: str, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


# --------------------------------------------------------------------------- headers


@dataclass(frozen=True)
class ColumnRole:
    """What a header means.

    role: ``variable`` (a single/date/integer/text variable, or the list column of a
    multi-choice variable), ``option`` (one option of a multi-choice variable),
    ``risk`` (one field of a repeated risk group), ``personal`` (Klient, Handläggare,
    Klientförslag), ``comment``, ``local`` or ``blank`` (empty header).
    """

    role: str
    variable: str | None = None  # codebook name
    target: str | None = None  # output column (variable name, risk_<k>_<field>, …)
    code: str | None = None  # option code (role ``option``)

    @property
    def key(self) -> tuple[str, ...] | None:
        """What must not be named twice in one header."""
        if self.role in ("variable", "personal", "risk"):
            return (self.target or "",)
        if self.role == "option":
            return (self.variable or "", self.code or "")
        return None


@dataclass(frozen=True)
class _Index:
    by_form: dict[str, cbm.Variable]  # normalised label/alias → variable
    by_suv: dict[int, cbm.Variable]
    risk: cbm.Variable | None
    risk_prefixes: tuple[str, ...]
    risk_fields: dict[str, str]  # normalised Swedish field word → output field
    risk_max: int
    protections: tuple[tuple[str, str], ...]  # (regex, replacement) per multi var label with a delimiter


def _fold_pattern(text: str) -> str:
    """A regex (for polars, Rust syntax) matching ``text`` like ``normalise`` compares."""
    out = []
    for ch in text:
        low = ch.lower()
        if low in "aåä":
            out.append("[aåä]")
        elif low in "oö":
            out.append("[oö]")
        elif ch.isspace():
            out.append(r"\s+")
        elif ch.isalnum():
            out.append(ch)
        else:
            out.append(f"\\x{{{ord(ch):X}}}")
    return "".join(out)


@cache
def _index() -> _Index:
    cb = cbm.load()
    by_form: dict[str, cbm.Variable] = {}
    for v in cb.variables:
        for form in (v.label, *v.aliases):
            by_form[normalise(form)] = v
    by_suv = {v.suv: v for v in cb.variables}
    repeated = cb.of_kind("repeated")
    risk = repeated[0] if repeated else None
    prefixes: tuple[str, ...] = ()
    fields: dict[str, str] = {}
    risk_max = 0
    if risk is not None:
        prefixes = tuple(
            sorted(
                {
                    normalise(risk.extra.get("group_prefix", risk.label)),
                    normalise(risk.label),
                    *(normalise(a) for a in risk.aliases),
                },
                key=len,
                reverse=True,
            )
        )
        fields = {normalise(word): field for field, word in risk.extra.get("fields", {}).items()}
        risk_max = int(risk.extra.get("max_repeats", 10))
    protections = []
    for v in cb.of_kind("multi"):
        for option in v.options:
            parts = re.split(r"\s*[,;]\s*", option.label.strip())
            if len(parts) < 2:
                continue
            pattern = "(?i)" + r"\s*[,;]\s*".join(f"({_fold_pattern(p)})" for p in parts)
            replacement = (_PLACEHOLDER + " ").join(f"${{{i}}}" for i in range(1, len(parts) + 1))
            protections.append((pattern, replacement))
    return _Index(by_form, by_suv, risk, prefixes, fields, risk_max, tuple(protections))


_NR_SUFFIX = re.compile(r"^(.*?)\s*\(\s*v?(\d+)\s*\)$")
_NR_PREFIX = re.compile(r"^(?:\(\s*v?(\d+)\s*\)|v?(\d+)[.:]?)\s+(\D.*)$")
_V_NUMBER = re.compile(r"^v\s?(\d+)$")
_OPTION_NR = re.compile(r"^v?(\d+)\s*_\s*(\d+)$")
_COMMENT = re.compile(r"(^|[^a-z0-9])kommentar(er)?([^a-z0-9]|$)")


def _variable_of(h: str) -> cbm.Variable | None:
    """The variable a normalised header names by label/alias, SUV number, or both."""
    ix = _index()
    if h in ix.by_form:
        return ix.by_form[h]
    m = _V_NUMBER.match(h)
    if m:
        return ix.by_suv.get(int(m.group(1)))
    m = _NR_SUFFIX.match(h)
    if m:
        label, nr = m.group(1).strip(), int(m.group(2))
        by_nr = ix.by_suv.get(nr)
        if not label:
            return by_nr
        # label and number must agree; a mismatch is not trusted (becomes local)
        return by_nr if by_nr is not None and ix.by_form.get(label) is by_nr else None
    m = _NR_PREFIX.match(h)  # "(5) Datum för aktualisering", "5. Datum …", "V5 Datum …"
    if m:
        by_nr = ix.by_suv.get(int(m.group(1) or m.group(2)))
        return by_nr if by_nr is not None and ix.by_form.get(m.group(3).strip()) is by_nr else None
    return None


def _option_code(var: cbm.Variable, text: str) -> int | None:
    """The option a (normalised) text names: code, label, or code and label."""
    t = normalise(text)
    if t.isdigit():
        code = int(t)
        return code if code in var.codes else None
    labels = _option_labels(var)
    if t in labels:
        return labels[t]
    m = re.match(r"^(\d+)\s*[.):\-]?\s*(.+)$", t)
    if m and labels.get(m.group(2).strip()) == int(m.group(1)):
        return int(m.group(1))
    return None


@cache
def _option_labels(var: cbm.Variable) -> dict[str, int]:
    """Normalised label → code, including the codebook's value synonyms both ways
    (``Vet ej`` and ``Vet inte`` name the same option)."""
    labels = {normalise(o.label): o.code for o in var.options}
    for a, b in cbm.load().value_synonyms.items():
        a, b = normalise(a), normalise(b)
        if a in labels and b not in labels:
            labels[b] = labels[a]
        elif b in labels and a not in labels:
            labels[a] = labels[b]
    return labels


def classify_header(header: str | None) -> ColumnRole:
    """Recognise one header text by the codebook (see the module docstring)."""
    if header is None or len(header) > 200:  # no header is that long (a comment cell)
        return ColumnRole("blank" if header is None else "local")
    return _classify(header)


@lru_cache(maxsize=8192)
def _classify(header: str) -> ColumnRole:
    h = normalise(header)
    if not h:
        return ColumnRole("blank")
    ix = _index()

    var = _variable_of(h)
    if var is not None:
        if var.personal:
            return ColumnRole("personal", var.name, var.name)
        if var.kind == "repeated":
            return ColumnRole("local")  # the group needs <k> and a field
        return ColumnRole("variable", var.name, var.name)

    m = _OPTION_NR.match(h)
    if m:
        var = ix.by_suv.get(int(m.group(1)))
        if var is not None and var.kind == "multi" and int(m.group(2)) in var.codes:
            return ColumnRole("option", var.name, var.name, m.group(2))
    if ":" in h:
        left, _, right = h.partition(":")
        var = _variable_of(left.strip())
        if var is not None and var.kind == "multi":
            code = _option_code(var, right)
            if code is not None:
                return ColumnRole("option", var.name, var.name, str(code))

    if ix.risk is not None:
        bare = re.sub(rf"\(\s*{ix.risk.suv}\s*\)", " ", h)
        bare = re.sub(r"\s+", " ", bare).strip()
        for prefix in ix.risk_prefixes:
            if bare.startswith(prefix):
                m = re.match(r"^\s*(\d+)\s*(\S+)$", bare[len(prefix) :])
                if m and m.group(2) in ix.risk_fields and 1 <= int(m.group(1)) <= ix.risk_max:
                    target = f"risk_{int(m.group(1))}_{ix.risk_fields[m.group(2)]}"
                    return ColumnRole("risk", ix.risk.name, target)

    if _COMMENT.search(h):
        return ColumnRole("comment")
    return ColumnRole("local")


# --------------------------------------------------------------------------- reading


@dataclass
class _Grid:
    """A sheet or CSV file as text cells: columns c0…c{n-1} (String) plus ``row``."""

    format: str
    frame: pl.DataFrame
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    column_refs: list[str] | None = None  # how the unit names column i: "C" (xlsx) or "3" (csv)

    def ref(self, i: int) -> str:
        return self.column_refs[i] if self.column_refs and i < len(self.column_refs) else str(i + 1)


def _column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _cell_name(i: int) -> str:
    return f"c{i}"


def _header_score(cells: Sequence[str | None]) -> tuple[int, bool]:
    roles = [classify_header(c) for c in cells]
    score = sum(r.role not in ("local", "blank") for r in roles)
    targets = {r.target for r in roles}
    return score, {"client", "opened"} <= targets


def _find_header(rows: list[tuple[int, list[str | None]]]) -> tuple[int, int, bool] | None:
    """(index into rows, score, has key columns) of the best header candidate."""
    best: tuple[int, int, bool] | None = None
    for i, (_, cells) in enumerate(rows):
        score, has_keys = _header_score(cells)
        if score == 0:
            continue
        if best is None or (has_keys, score) > (best[2], best[1]):
            best = (i, score, has_keys)
    return best


def _excel_grid(path: Path, shown: str) -> _Grid:
    try:
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
        if not names:
            raise ValueError("no sheets")
        sheet = _export_sheet(reader, names)
        loaded = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string")
        frame = loaded.to_polars()
        absolute = {info.name: info.absolute_index for info in loaded.available_columns()}
        errors = _error_cells(path, names.index(sheet))
    except Exception as exc:  # calamine's errors: corrupt zip, not a workbook, …
        raise IngestError(
            f"Filen {shown} kunde inte läsas som en Excel-arbetsbok (.xlsx): filen är skadad "
            f"eller inte en Excel-fil ({type(exc).__name__}). Öppna filen i Excel och spara den "
            f"igen som .xlsx, eller exportera på nytt från SUreg."
        ) from None
    indexes = [absolute.get(c, i) for i, c in enumerate(frame.columns)]
    refs = [_column_letters(i) for i in indexes]
    frame = frame.rename({c: _cell_name(i) for i, c in enumerate(frame.columns)})
    frame = frame.with_columns(pl.all().cast(pl.String))
    # An Excel date cell is read as "YYYY-MM-DD 00:00:00": show it as a date.
    frame = frame.with_columns(pl.all().str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$", "${1}"))
    frame = frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("row"))
    frame = _with_error_cells(frame, errors, indexes)
    return _Grid("xlsx", frame, sheet=sheet, column_refs=refs)


def _export_sheet(reader: Any, names: list[str]) -> str:
    """The sheet named Export or Data, else the first sheet that holds anything (a
    workbook whose first sheet is empty keeps its export on another)."""
    wanted = {normalise(n): n for n in names}
    if "export" in wanted or "data" in wanted:
        return wanted.get("export") or wanted["data"]
    for name in names:
        if reader.load_sheet(name, header_row=None, n_rows=1, dtypes="string").height:
            return name
    return names[0]


_XML_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)(\d+)"')
_XML_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _error_cells(path: Path, position: int) -> dict[tuple[int, int], str]:
    """{(sheet row, column index): Excel error value} of the ``position``-th sheet, read
    from the workbook's XML: calamine reads error cells as empty, which would hide them."""
    with zipfile.ZipFile(path) as book:
        names = _sheet_parts(book)
        xml = book.read(names[position]) if position < len(names) else b""
    errors = {}
    # Error cells are rare: look only where one is, not at every cell of a large sheet.
    for found in re.finditer(rb't="e"', xml):
        start = xml.rfind(b"<c ", 0, found.start())
        ref = _XML_CELL_REF.match(xml, start) if start >= 0 else None
        if ref is None:
            continue
        end = xml.find(b"</c>", found.end())
        value = _XML_VALUE.search(xml, found.end(), end if end >= 0 else len(xml))
        errors[(int(ref.group(2)), _column_index(ref.group(1).decode()))] = value.group(1).decode() if value else "#N/A"
    return errors


def _sheet_parts(book: zipfile.ZipFile) -> list[str]:
    """The worksheet XML parts in the workbook's sheet order."""
    workbook = book.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets |= {k: v for v, k in re.findall(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
    parts = []
    for rid in re.findall(r'<sheet\b[^>]*?r:id="([^"]+)"', workbook):
        target = targets.get(rid, "")
        parts.append(target.lstrip("/") if target.startswith("/") else "xl/" + target)
    return parts


def _column_index(letters: str) -> int:
    """A → 0, Z → 25, AA → 26."""
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - ord("A") + 1)
    return index - 1


def _with_error_cells(frame: pl.DataFrame, errors: dict[tuple[int, int], str], indexes: list[int]) -> pl.DataFrame:
    """Put the error values calamine left empty back into their cells (as text)."""
    if not errors:
        return frame
    position = {absolute: i for i, absolute in enumerate(indexes)}
    for (row, absolute), value in errors.items():
        if absolute in position:
            cell = _cell_name(position[absolute])
            frame = frame.with_columns(
                pl.when(pl.col("row") == row).then(pl.lit(value)).otherwise(pl.col(cell)).alias(cell)
            )
    return frame


def _decode(data: bytes, shown: str) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" (UTF-16 with BOM)
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("cp1252").removeprefix("\u00ef\u00bb\u00bf"), "cp1252"
    except UnicodeDecodeError:
        raise IngestError(
            f"Filen {shown} har en okänd teckenkodning (varken UTF-8 eller Windows-1252). "
            f"Spara filen som CSV UTF-8 och skicka den igen."
        ) from None


class _UnbalancedQuotes(csv.Error):
    def __init__(self, line: int) -> None:
        super().__init__(f"line {line}")
        self.line = line


def _csv_records(text: str, delimiter: str, limit: int | None = None) -> list[tuple[int, list[str]]]:
    """(line where the record starts, fields) for every record, blank lines included.
    Strict quoting: a quote opened and never closed would otherwise swallow every later
    line into one field without a word (raises _UnbalancedQuotes with that line)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=True)
    records = []
    previous = 0
    try:
        for fields in reader:
            records.append((previous + 1, fields))
            previous = reader.line_num
            if limit is not None and len(records) >= limit:
                break
    except csv.Error:
        if limit is not None:
            return records
        raise _UnbalancedQuotes(previous + 1) from None
    return records


def _csv_grid(path: Path, shown: str) -> _Grid:
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"Filen {shown} är tom. Exportera på nytt från SUreg och skicka filen igen.")
    if data.startswith(b"PK\x03\x04"):
        raise IngestError(
            f"Filen {shown} är en Excel-arbetsbok men har filändelsen .csv. "
            f"Byt filändelsen till .xlsx eller spara filen som CSV."
        )
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(
            f"Filen {shown} är ingen textfil (den innehåller binära data). "
            f"Skicka exporten från SUreg som .xlsx eller .csv."
        )
    text, encoding = _decode(data, shown)
    control = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\r\n")
    if control > max(2, len(text[:65536]) // 200):
        raise IngestError(
            f"Filen {shown} är ingen textfil (den innehåller binära data). "
            f"Skicka exporten från SUreg som .xlsx eller .csv."
        )
    best_delimiter, best_score = _CSV_DELIMITERS[0], (False, 0)
    for delimiter in _CSV_DELIMITERS:
        head = _csv_records(text, delimiter, limit=HEADER_SEARCH_ROWS)
        found = _find_header([(line, list(f)) for line, f in head])
        if found is not None and (found[2], found[1]) > best_score:
            best_delimiter, best_score = delimiter, (found[2], found[1])
    try:
        records = _csv_records(text, best_delimiter)
    except _UnbalancedQuotes as exc:
        raise IngestError(
            f'Filen {shown} kunde inte läsas som CSV: ett citattecken (") som börjar på rad {exc.line} '
            f"avslutas aldrig, så resten av filen skulle bli ett enda fält. Rätta citattecknet på den "
            f"raden (ofta i en kommentar) eller exportera på nytt från SUreg."
        ) from None
    columns = list(itertools.zip_longest(*(f for _, f in records), fillvalue=None)) if records else []
    frame = pl.DataFrame(
        {_cell_name(i): pl.Series(values=list(col), dtype=pl.String) for i, col in enumerate(columns)}
        | {"row": pl.Series(values=[line for line, _ in records], dtype=pl.Int32)},
    )
    return _Grid("csv", frame, encoding=encoding, delimiter=best_delimiter)


# --------------------------------------------------------------------------- building


def _stripped(column: str) -> pl.Expr:
    s = pl.col(column).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def split_multi_tokens(cell: pl.Expr) -> pl.Expr:
    """A list-layout multi-choice cell → List(String) of its stripped tokens, split on
    ``;`` and ``,`` except inside known option labels that contain a comma (matched like
    ``normalise`` compares); null stays null, a cell without tokens gives ``[]``."""
    for pattern, replacement in _index().protections:
        cell = cell.str.replace_all(pattern, replacement)
    return (
        cell.str.replace_all(";", ",", literal=True)
        .str.split(",")
        .list.eval(pl.element().str.strip_chars().str.replace_all(_PLACEHOLDER, ",", literal=True))
        .list.eval(pl.element().filter(pl.element() != ""))
    )


def _relative_name(path: Path) -> str:
    """``<round>/<path inside the round folder>``, as the unit and the quality pages name it."""
    folder = round_folder_of(path)
    if folder is not None:
        return path.relative_to(folder.parent).as_posix()
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def most_common(values: pl.Series) -> Any:
    """The most common non-null value (ties: the smallest), or None."""
    values = values.drop_nulls()
    if values.is_empty():
        return None
    counts = values.value_counts(sort=False, name="n").sort(["n", values.name], descending=[True, False])
    return counts.item(0, values.name)


def _chosen_sets() -> tuple[list[str], list[str]]:
    cb = cbm.load()
    return (
        sorted({normalise(v) for v in cb.chosen_values}),
        sorted({normalise(v) for v in cb.not_chosen_values} - {""}),
    )


def ingest_file(path: str | Path, round_date: date | str, key: bytes) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Read one raw export: the raw frame (docs/stages.md "ingest") and its metadata.

    Raises IngestError (Swedish message naming the file, the problem and what to do)
    when the file cannot be read; the caller decides whether that stops the run.
    """
    path = Path(path)
    shown = _relative_name(path)
    try:
        return _ingest(path, shown, round_date, key)
    except IngestError as error:
        error.file = shown
        raise


def _ingest(path: Path, shown: str, round_date: date | str, key: bytes) -> tuple[pl.DataFrame, dict[str, Any]]:
    round_text = round_date.isoformat() if isinstance(round_date, date) else str(round_date)
    suffix = path.suffix.lower()
    if suffix not in _EXCEL_EXTENSIONS + _CSV_EXTENSIONS:
        raise IngestError(
            f"Filen {shown} har filändelsen {path.suffix or '(ingen)'}, som inte kan läsas. "
            f"Skicka exporten som .xlsx eller .csv."
        )
    if not path.is_file():
        raise IngestError(f"Filen {shown} finns inte eller är ingen fil.")
    if path.stat().st_size == 0:
        raise IngestError(f"Filen {shown} är tom (0 byte). Exportera på nytt från SUreg och skicka filen igen.")
    grid = _excel_grid(path, shown) if suffix in _EXCEL_EXTENSIONS else _csv_grid(path, shown)
    return _build(grid, shown, round_text, key)


def _build(grid: _Grid, shown: str, round_text: str, key: bytes) -> tuple[pl.DataFrame, dict[str, Any]]:
    cell_columns = [c for c in grid.frame.columns if c != "row"]
    if grid.frame.height == 0 or not cell_columns:
        raise IngestError(f"Filen {shown} är tom. Exportera på nytt från SUreg och skicka filen igen.")
    header_row, headers, roles = _header(grid, cell_columns, shown)
    _refuse_named_twice(grid, shown, header_row, headers, roles)
    data = grid.frame.filter(pl.col("row") > header_row)
    data = data.filter(pl.any_horizontal([_stripped(c).is_not_null() for c in cell_columns]))
    if data.height == 0:
        raise IngestError(
            f"Filen {shown} har en rubrikrad (rad {header_row}) men inga ärenden under den. "
            f"Kontrollera urvalet i SUreg (period och enhet) och exportera på nytt."
        )
    columns = _Columns(headers, roles)
    data, screened = screen_cells(data, columns, grid)

    variable_exprs, variable_columns, unknown_marks = _variable_exprs(columns)
    exprs = [
        pl.col("row").cast(pl.Int32),
        *_key_exprs(columns),
        *variable_exprs,
        *_risk_exprs(columns),
        *_comment_exprs(columns),
        pl.col("_extra_fields").alias("extra_fields"),
    ]
    local_variables, local_names = _local_variables(data, columns, grid)
    issues = _screen_issues(screened, columns, shown) + _unknown_mark_issues(data, unknown_marks, columns, shown)
    issues += [
        {
            "file": shown,
            "row": None,
            "column": name,
            "variable": None,
            "rule": "local_variable",
            "value": None,
            "_col": i - 10**6,
        }
        for i, name in local_names.items()
    ]
    issues.sort(key=lambda x: (x["row"] if x["row"] is not None else -1, x["_col"]))
    for issue in issues:
        del issue["_col"]

    raw = data.select(exprs)
    raw = raw.with_columns(
        pseudonymise(raw.get_column("client_key"), key),
        pseudonymise(raw.get_column("handler_key"), key),
    )
    metadata: dict[str, Any] = {
        "file": shown,
        "round": round_text,
        "format": grid.format,
        "sheet": grid.sheet,
        "header_row": header_row,
        "encoding": grid.encoding,
        "delimiter": grid.delimiter,
        "rows_read": raw.height,
        "municipality": most_common(raw.get_column("municipality")),
        "service_type": _most_common_service_type(raw.get_column("service_type")),
        "columns": _columns_meta(columns, local_names),
        "variable_columns": variable_columns,
        "local_variables": local_variables,
        "issues": issues,
    }
    return raw, metadata


# --------------------------------------------------------------------------- screening
#
# Before any value is parsed, every cell of a national column is screened for what must
# never travel further: something shaped like a personal identity number, and Excel's
# error values; and a CSV record with more fields than the header (an unquoted
# delimiter in a comment) keeps only its case key, since its values are shifted.

_SCREENED_ROLES = ("variable", "option", "risk")


def _header_width(columns: _Columns) -> int:
    """Columns up to the header's last named one."""
    named = [i for i, h in enumerate(columns.headers) if h]
    return named[-1] + 1 if named else 0


def screen_cells(data: pl.DataFrame, columns: _Columns, grid: _Grid) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the data with screened cells emptied and ``_extra_fields`` per row, the screened
    cells: ``row``, ``i`` (column index), ``rule``)."""
    width = _header_width(columns)
    beyond = [_cell_name(i) for i in range(width, len(columns.headers))]
    extra = (
        pl.any_horizontal([_stripped(c).is_not_null() for c in beyond])
        if grid.format == "csv" and beyond
        else pl.lit(False)
    )
    data = data.with_columns(extra.alias("_extra_fields"))
    keep_on_extra = set(columns.of("client")) | set(columns.of("opened"))
    personal = [i for i in range(width) if columns.roles[i].role == "personal"]
    screened_columns = [i for i in range(width) if columns.roles[i].role in _SCREENED_ROLES] + personal
    hits = _screen_hits(data, screened_columns, personal)
    # a shifted record's values are not where their header says: one issue for the row
    # (its cells are emptied below), none per cell
    found = hits.filter(~pl.col("_extra_fields")).select("row", "i", "rule")
    any_shifted = bool(data.get_column("_extra_fields").any())
    hit_rows = dict(hits.group_by("i").agg("row").iter_rows()) if hits.height else {}
    cells = []
    for i in range(width):
        emptied = pl.col("row").is_in(hit_rows[i]) if i in hit_rows else pl.lit(False)
        if any_shifted and i not in keep_on_extra:
            emptied = emptied | pl.col("_extra_fields")
        if i in hit_rows or (any_shifted and i not in keep_on_extra):
            cell = _cell_name(i)
            cells.append(pl.when(emptied).then(None).otherwise(pl.col(cell)).alias(cell))
    data = data.with_columns(*cells, *[pl.lit(None, pl.String).alias(cell) for cell in beyond])
    return data, found


def _screen_hits(data: pl.DataFrame, screened: list[int], personal: list[int]) -> pl.DataFrame:
    """``row``, ``_extra_fields``, ``i``, ``rule`` of every screened cell that is a personal
    number or an Excel error value (an identifier may look like anything, but an Excel
    error is no identifier). All cells at once: one pass of the patterns per file."""
    schema = {"row": pl.Int32, "_extra_fields": pl.Boolean, "i": pl.Int32, "rule": pl.String}
    if not screened:
        return pl.DataFrame(schema=schema)
    text = pl.col("_text").str.strip_chars()
    error = pl.when(text.is_in(EXCEL_ERRORS)).then(pl.lit("excel_error_value"))
    rule = (
        pl.when(pl.col("i").is_in(personal))
        .then(error)
        .when(personal_number_expr(text))
        .then(pl.lit("personal_identity_number"))
        .otherwise(error)
    )
    return (
        data.lazy()
        .select("row", "_extra_fields", *[pl.col(_cell_name(i)).alias(str(i)) for i in sorted(screened)])
        .unpivot(index=["row", "_extra_fields"], variable_name="i", value_name="_text")
        .filter(pl.col("_text").is_not_null())
        .with_columns(pl.col("i").cast(pl.Int32))
        .with_columns(rule.alias("rule"))
        .filter(pl.col("rule").is_not_null())
        .select(pl.col("row").cast(pl.Int32), "_extra_fields", "i", "rule")
        .collect()
    )


def _screen_issues(screened: pl.DataFrame, columns: _Columns, shown: str) -> list[dict[str, Any]]:
    """One issue per screened cell: located, never with the value of a personal number."""
    return [
        {
            "file": shown,
            "row": row,
            "column": columns.headers[i],
            "variable": columns.roles[i].variable,
            "rule": rule,
            "value": None,
            "_col": i,
        }
        for row, i, rule in screened.iter_rows()
    ]


@dataclass(frozen=True)
class _Columns:
    """The header of a file: header text and role per column index."""

    headers: list[str]
    roles: list[ColumnRole]

    def cell(self, i: int) -> str:
        return _cell_name(i)

    def of(self, target: str) -> list[int]:
        """Indexes of the columns whose role targets ``target``, in file order."""
        return [i for i, r in enumerate(self.roles) if r.target == target]

    def first(self, target: str, out: str) -> pl.Expr:
        """The stripped text of the first column for ``target`` (null when none) as ``out``."""
        where = self.of(target)
        return (_stripped(self.cell(where[0])) if where else pl.lit(None, pl.String)).alias(out)


def _header(grid: _Grid, cell_columns: list[str], shown: str) -> tuple[int, list[str], list[ColumnRole]]:
    """(header row, header texts, their roles); refuses a file without a header row or
    without the key columns Klient (4) and Datum för aktualisering (5)."""
    cb = cbm.load()
    top = grid.frame.head(HEADER_SEARCH_ROWS)
    candidates = [(r[-1], list(r[:-1])) for r in top.select(*cell_columns, "row").rows()]
    found = _find_header(candidates)
    if found is None:
        raise IngestError(
            f"Filen {shown}: ingen rubrikrad hittades bland de första {HEADER_SEARCH_ROWS} raderna "
            f"(ingen cell är en känd variabel, t.ex. Klient (4) eller Datum för aktualisering (5)). "
            f"Kontrollera att filen är en export från SU-Kvinnofrid med kolumnrubrikerna kvar."
        )
    header_row, header_cells = candidates[found[0]]
    headers = [("" if c is None else str(c).strip()) for c in header_cells]
    roles = [classify_header(h) for h in headers]
    targets = {r.target for r in roles}
    missing = [v for v in ("client", "opened") if v not in targets]
    if missing:
        names = " och ".join(f"{cb[v].label} ({cb[v].suv})" for v in missing)
        raise IngestError(
            f"Filen {shown} saknar kolumnen {names}, som behövs för att identifiera ärendena "
            f"(rubrikraden är rad {header_row}). Exportera på nytt från SUreg med alla kolumner, "
            f"eller rätta kolumnrubriken."
        )
    return header_row, headers, roles


def _refuse_named_twice(grid: _Grid, shown: str, header_row: int, headers: list[str], roles: list[ColumnRole]) -> None:
    """The same variable (or option, or risk field) named by two columns: a located error."""
    cb = cbm.load()
    seen: dict[tuple[str, ...], int] = {}
    for i, r in enumerate(roles):
        if r.key is None:
            continue
        if r.key in seen:
            first = seen[r.key]
            var = cb[r.variable] if r.variable else None
            what = f"{var.label} ({var.suv})" if var else r.target
            if r.role == "option":
                what += f", svarsalternativ {r.code}"
            raise IngestError(
                f'Filen {shown}: kolumnerna "{headers[first]}" (kolumn {grid.ref(first)}) och '
                f'"{headers[i]}" (kolumn {grid.ref(i)}) på rubrikrad {header_row} anger båda variabeln '
                f"{what}. Ta bort eller byt namn på den ena kolumnen."
            )
        seen[r.key] = i


def _key_exprs(columns: _Columns) -> list[pl.Expr]:
    """Klient and Handläggare in clear text; replaced by pseudonyms after the selection
    (the keyed hash needs Python)."""
    return [columns.first("client", "client_key"), columns.first("handler", "handler_key")]


def _variable_exprs(columns: _Columns) -> tuple[list[pl.Expr], dict[str, str], list[pl.Expr]]:
    """(one expression per national variable, {variable: header of its column},
    per option column the cell when it is no known chosen/not-chosen mark)."""
    variable_columns: dict[str, str] = {}
    exprs: list[pl.Expr] = []
    unknown_marks: list[pl.Expr] = []
    for v in cbm.load().national:
        where = columns.of(v.name)
        if v.kind == "multi":
            expr, marks = _multi_expr(v, where, columns, variable_columns)
            exprs.append(expr)
            unknown_marks += marks
            continue
        if where:
            variable_columns[v.name] = columns.headers[where[0]]
        exprs.append(columns.first(v.name, v.name))
    return exprs, variable_columns, unknown_marks


def _multi_expr(
    v: cbm.Variable, where: list[int], columns: _Columns, variable_columns: dict[str, str]
) -> tuple[pl.Expr, tuple[pl.Expr, ...]]:
    """A multi-choice variable as List(String) of tokens from its list column and its
    one-column-per-option columns (null when none chosen); records the list column's
    header in ``variable_columns``. Also the unknown-mark expressions of its option columns."""
    for i in where:
        if columns.roles[i].role == "variable":
            variable_columns[v.name] = columns.headers[i]
    return _multi_expr_of(v.name, tuple((i, columns.roles[i]) for i in where))


@lru_cache(maxsize=4096)
def _multi_expr_of(name: str, layout: tuple[tuple[int, ColumnRole], ...]) -> tuple[pl.Expr, tuple[pl.Expr, ...]]:
    """:func:`_multi_expr` for one layout of a variable's columns: built once per layout,
    not once per file (building the expressions cost more than running them on a small
    export; the expressions are immutable, so files of the same layout share them)."""
    chosen, not_chosen = _chosen_sets()
    parts: list[pl.Expr] = []
    option_marks: list[pl.Expr] = []
    unknown_marks: list[pl.Expr] = []
    for i, role in layout:
        cell = _stripped(_cell_name(i))
        if role.role == "variable":
            parts.append(split_multi_tokens(cell).fill_null(pl.lit([], dtype=pl.List(pl.String))))
            continue
        mark = cell.str.to_lowercase()
        option_marks.append(pl.when(mark.is_in(chosen)).then(pl.lit(role.code)).otherwise(None))
        unknown = mark.is_not_null() & ~mark.is_in(chosen) & ~mark.is_in(not_chosen)
        unknown_marks.append(pl.when(unknown).then(cell).otherwise(None).alias(str(i)))
    if option_marks:
        parts.append(pl.concat_list(option_marks).list.drop_nulls())
    if not parts:
        return pl.lit(None, pl.List(pl.String)).alias(name), tuple(unknown_marks)
    merged = pl.concat_list(parts).list.unique(maintain_order=True)
    return pl.when(merged.list.len() > 0).then(merged).otherwise(None).alias(name), tuple(unknown_marks)


def _unknown_mark_issues(
    data: pl.DataFrame, unknown_marks: list[pl.Expr], columns: _Columns, shown: str
) -> list[dict[str, Any]]:
    """unknown_value: an option-column cell that is neither a chosen nor a not-chosen
    mark (one pass over the data for every option column)."""
    if not unknown_marks:
        return []
    marks = data.select("row", *unknown_marks).unpivot(index="row", variable_name="i", value_name="value")
    return [
        {
            "file": shown,
            "row": row,
            "column": columns.headers[int(i)],
            "variable": columns.roles[int(i)].variable,
            "rule": "unknown_value",
            "value": shown_value(value),
            "_col": int(i),
        }
        for row, i, value in marks.drop_nulls("value").iter_rows()
    ]


def _risk_exprs(columns: _Columns) -> list[pl.Expr]:
    """risk_<k>_date|instrument|rating for every group k the header has."""
    risk_ks = sorted({int(r.target.split("_")[1]) for r in columns.roles if r.role == "risk" and r.target})
    return [
        columns.first(f"risk_{k}_{field}", f"risk_{k}_{field}")
        for k in risk_ks
        for field in ("date", "instrument", "rating")
    ]


def _comment_exprs(columns: _Columns) -> list[pl.Expr]:
    """``comments`` (non-empty comment cells per row) and ``has_suggestion``: counts
    only, the text never leaves ingest."""
    comment_cols = [columns.cell(i) for i, r in enumerate(columns.roles) if r.role == "comment"]
    if comment_cols:
        comments = pl.sum_horizontal([_stripped(c).is_not_null().cast(pl.Int16) for c in comment_cols]).cast(pl.Int16)
    else:
        comments = pl.lit(0, pl.Int16)
    where = columns.of("survey_suggestions")
    suggestion = _stripped(columns.cell(where[0])).is_not_null() if where else pl.lit(False)
    return [comments.alias("comments"), suggestion.alias("has_suggestion")]


def _local_variables(data: pl.DataFrame, columns: _Columns, grid: _Grid) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Local variables: (name and how many rows fill it, never its values; {column
    index: name}). A column without header counts only when it holds something."""
    local_idx = [i for i, r in enumerate(columns.roles) if r.role in ("local", "blank")]
    filled = (
        data.select([_stripped(columns.cell(i)).is_not_null().sum().alias(columns.cell(i)) for i in local_idx]).row(0)
        if local_idx
        else ()
    )
    local_variables: list[dict[str, Any]] = []
    local_names: dict[int, str] = {}
    for i, n in zip(local_idx, filled):
        if columns.roles[i].role == "blank" and n == 0:
            continue
        name = columns.headers[i] or f"(kolumn {grid.ref(i)} utan rubrik)"
        if looks_like_personal_number(name):
            name = f"(kolumn {grid.ref(i)}: rubriken ser ut som ett personnummer)"
        local_names[i] = name
        local_variables.append({"name": name, "filled": int(n)})
    return local_variables, local_names


def _columns_meta(columns: _Columns, local_names: dict[int, str]) -> dict[str, str]:
    """{header: what it is} (variable or risk target, personal, comment, local)."""
    columns_meta: dict[str, str] = {}
    for i, (h, r) in enumerate(zip(columns.headers, columns.roles)):
        if r.role == "blank" or i in local_names:
            if i in local_names:
                columns_meta[local_names[i]] = "local"
            continue
        columns_meta[h] = {"personal": "personal", "comment": "comment", "local": "local"}.get(r.role, r.target or "")
    return columns_meta


def _most_common_service_type(values: pl.Series) -> int | None:
    """The most common Verksamhet (1) code of the file's rows (ties: the lowest)."""
    service_type = cbm.load()["service_type"]
    service_counts: dict[int, int] = {}
    for text, n in values.drop_nulls().value_counts(name="n").iter_rows():
        code = _option_code(service_type, text)
        if code is not None:
            service_counts[code] = service_counts.get(code, 0) + n
    return min(service_counts, key=lambda c: (-service_counts[c], c)) if service_counts else None


def _round_of(path: Path) -> str:
    folder = round_folder_of(path)
    name = folder.name if folder is not None else path.parent.name
    try:
        return date.fromisoformat(name).isoformat()
    except ValueError:
        raise IngestError(
            f"Filen {_relative_name(path)} ligger i mappen {name!r}, som inte är ett datum (ÅÅÅÅ-MM-DD). "
            f"Lägg exporterna i en mapp per insamlingsomgång, namngiven efter datumet."
        ) from None


def write_ingest(
    path: str | Path,
    out_parquet: str | Path,
    out_json: str | Path,
    key: bytes,
    round_date: date | str | None = None,
) -> dict[str, Any]:
    """Ingest ``path`` and write the raw parquet and the JSON metadata; returns the metadata.

    The round defaults to the file's folder name (``data-raw/<YYYY-MM-DD>/<file>``)."""
    path = Path(path)
    frame, metadata = ingest_file(path, round_date if round_date is not None else _round_of(path), key)
    out_parquet, out_json = Path(out_parquet), Path(out_json)
    out_parquet.parent.mkdir(parents=True, exist_ok=True)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(out_parquet)
    out_json.write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return metadata


def empty_raw_frame() -> pl.DataFrame:
    """A raw frame with no rows and the columns of docs/stages.md "ingest"."""
    cb = cbm.load()
    columns: dict[str, pl.DataType] = {"row": pl.Int32(), "client_key": pl.String(), "handler_key": pl.String()}
    for var in cb.national:
        columns[var.name] = pl.List(pl.String()) if var.kind == "multi" else pl.String()
    columns |= {"comments": pl.Int16(), "has_suggestion": pl.Boolean(), "extra_fields": pl.Boolean()}
    return pl.DataFrame(schema=columns)


def unreadable_metadata(path: str | Path, round_date: date | str, problem: IngestError) -> dict[str, Any]:
    """For ``on_unreadable_file: skip``: the metadata of a file recorded as unreadable
    (no rows, one ``file_unreadable`` issue whose value is the Swedish message) so the
    quality summary lists it and the run goes on. The message never holds a cell value."""
    shown = _relative_name(Path(path))
    return {
        "file": shown,
        "round": str(round_date),
        "unreadable": str(problem),
        "rows_read": 0,
        "municipality": None,
        "service_type": None,
        "columns": {},
        "variable_columns": {},
        "local_variables": [],
        "issues": [
            {
                "file": shown,
                "row": None,
                "column": None,
                "variable": None,
                "rule": "file_unreadable",
                "value": str(problem)[:300],
            }
        ],
    }


def read_export(
    path: str | Path, key: bytes, on_unreadable: str = "fail", round_date: date | str | None = None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``ingest_file`` with the round from the file's folder; a file that cannot be read
    raises IngestError, or with ``on_unreadable == "skip"`` gives an empty frame and
    ``unreadable_metadata`` (the problem logged once)."""
    path = Path(path)
    round_date = round_date if round_date is not None else _round_of(path)
    try:
        return ingest_file(path, round_date, key)
    except IngestError as problem:
        if on_unreadable != "skip":
            raise
        log.warning("%s", problem)
        return empty_raw_frame(), unreadable_metadata(path, round_date, problem)
