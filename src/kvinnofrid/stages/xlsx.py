"""Reading workbooks: the sheets, the sheet that holds the export, its used cells.

An ``.xlsx``/``.xlsm`` workbook (Office Open XML, transitional or strict, with or
without namespace prefixes) is opened from its XML parts: the sheets with their names
and whether they are hidden, the relationships, the shared strings, the number formats.
A sheet whose cells fill their rectangle is read by calamine (fastexcel: fast), its
error cells, which calamine reads as empty, put back from the XML. A *sparse* sheet —
a stray value far down or right — is read from its XML by polars expressions instead,
only the cells it holds: calamine fills the whole rectangle from the first to the
farthest cell, so a value typed in A1048576 made a 20-row export cost 1.2 GB, and one
in XFD1048576 aborts the process while it allocates 550 GB. Both readers give every
cell the same text (tested on every workbook of the demo and the national set): as a
spreadsheet shows it unformatted, a number without a trailing ``.0``, a cell with a
date format as ``YYYY-MM-DD HH:MM:SS`` (1900 or 1904 date system, Excel's 1900-02-29
included), booleans ``true``/``false``, error cells as their error text (``#N/A``),
strings with XML escapes and ``_xHHHH_`` undone. ``.xls``, ``.xlsb`` and ``.ods``
(Excel 97–2003, Excel's binary format, LibreOffice) are read by fastexcel.

The export's sheet is chosen by its content (:func:`workbook_grid`), from the first
rows of each sheet only. Work per cell is done by calamine or by vectorised string
expressions; Python runs per part, per distinct number format and escape sequence,
and on the few cells of the first rows of a sheet.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import fastexcel
import polars as pl

from kvinnofrid.spec.codebook import normalise
from kvinnofrid.stages.grid import Grid, IngestError, cell_name, column_index, column_letters
from kvinnofrid.stages.headers import HEADER_SEARCH_ROWS, find_header

CELLS_SCHEMA = pl.Schema({"row": pl.Int32(), "col": pl.Int32(), "text": pl.String()})
OOXML_EXTENSIONS = (".xlsx", ".xlsm")
CALAMINE_EXTENSIONS = (".xls", ".xlsb", ".ods")

_P = r"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix (x:c, s:row)
_ROW_START = re.compile(rf"<{_P}row(?=[\s>/])")
_SHEET_DATA = re.compile(rf"<{_P}sheetData\b[^>]*?(?:/>|>(.*?)</{_P}sheetData>)", re.S)
_CELL_END = re.compile(rb"</(?:\w+:)?c>")
_ROW_END = re.compile(rb"</(?:\w+:)?row>")
_HEAD_ROW = re.compile(r"(?s)<(?:\w+:)?row\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)")
_HEAD_CELL = re.compile(r"(?s)<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)")
_SHARED_ITEM = re.compile(r"(?s)<(?:\w+:)?si\b[^>]*?(?:/>|>.*?</(?:\w+:)?si>)")
_CELL = rf"(?s)<{_P}c\b[^>]*?/>|<{_P}c\b[^>]*>.*?</{_P}c>"
_TEXT_RUN = rf"(?s)<{_P}t(?:\s[^>]*)?>.*?</{_P}t>"
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)
_MS_PER_DAY = 86_400_000
# Excel's built-in number formats that show a date or a time.
_BUILTIN_DATE_FORMATS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_MAX_COLUMNS = 16_384  # A … XFD
_MIN_CELL_BYTES = len(b'<c r="A1"/>')


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its name, position (0-based), whether it is hidden, and
    where its cells are (the XML part, or the sheet's index for fastexcel)."""

    name: str
    position: int
    hidden: bool
    part: str | None = None


class WorkbookError(Exception):
    """The file is no workbook this module can read (the caller words the message)."""


def open_workbook(path: Path) -> OoxmlWorkbook | CalamineWorkbook:
    """The workbook at ``path`` by its extension; raises WorkbookError when unreadable."""
    if path.suffix.lower() in OOXML_EXTENSIONS:
        return OoxmlWorkbook(path)
    return CalamineWorkbook(path)


# ----------------------------------------------------------------- Office Open XML


class OoxmlWorkbook:
    """An ``.xlsx``/``.xlsm`` file read part by part (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._shared_head: dict[str, Iterator[re.Match[str]]] = {}
        self._shared_seen: dict[str, list[str]] = {}
        try:
            self._zip = zipfile.ZipFile(path)
            self._names = {n.lower(): n for n in self._zip.namelist()}
            self._workbook_part = self._office_document()
            workbook = self._text(self._workbook_part)
        except (zipfile.BadZipFile, KeyError, OSError, UnicodeDecodeError, ValueError, EOFError) as exc:
            raise WorkbookError(type(exc).__name__) from None
        self.date1904 = bool(re.search(r"<(?:\w+:)?workbookPr\b[^>]*\bdate1904=\"(?:1|true)\"", workbook))
        self._relations = self._rels(self._workbook_part)
        self.sheets = self._sheets(workbook)
        if not self.sheets:
            raise WorkbookError("no worksheets")

    # -- parts

    def _member(self, part: str) -> str:
        name = self._names.get(part.lstrip("/").lower())
        if name is None:
            raise KeyError(part)
        return name

    def _has(self, part: str) -> bool:
        return part.lstrip("/").lower() in self._names

    def _text(self, part: str) -> str:
        data = self._zip.read(self._member(part))
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """{relationship id: (type, target part)} of ``part``."""
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", name + ".rels")
        if not self._has(rels_part):
            return {}
        found = {}
        for attrs in re.findall(r"<(?:\w+:)?Relationship\b([^>]*)>", self._text(rels_part)):
            values = dict(re.findall(r'(\w+)="([^"]*)"', attrs))
            target = values.get("Target", "")
            if values.get("TargetMode") == "External":
                continue
            target = (
                target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            )
            found[values.get("Id", "")] = (values.get("Type", ""), target)
        return found

    def _office_document(self) -> str:
        for kind, target in self._rels("").values():
            if kind.endswith("/officeDocument"):
                return target
        return "xl/workbook.xml"

    def _sheets(self, workbook: str) -> list[Sheet]:
        sheets = []
        for attrs in re.findall(r"<(?:\w+:)?sheet\b([^>]*?)/?>", workbook):
            values = dict(re.findall(r'([\w:]+)="([^"]*)"', attrs))
            rid = next((v for k, v in values.items() if k.endswith(":id") or k == "id"), "")
            kind, target = self._relations.get(rid, ("", ""))
            if not kind.endswith("/worksheet") or not self._has(target):
                continue  # a chart sheet or a dialog sheet holds no cells
            name = _unescape_text(values.get("name", f"Blad{len(sheets) + 1}"))
            hidden = values.get("state", "visible") in ("hidden", "veryHidden")
            sheets.append(Sheet(name, len(sheets), hidden, target))
        return sheets

    def _part_of(self, kind: str, default: str) -> str | None:
        for rel_kind, target in self._relations.values():
            if rel_kind.endswith(kind) and self._has(target):
                return target
        return default if self._has(default) else None

    @cached_property
    def _shared_strings(self) -> pl.DataFrame:
        """``index``, ``text`` of the shared-string table (phonetic runs left out)."""
        part = self._part_of("/sharedStrings", "xl/sharedStrings.xml")
        if part is None:
            return pl.DataFrame(schema={"index": pl.Int64, "shared": pl.String})
        items = (
            pl.Series([self._text(part)])
            .str.extract_all(rf"(?s)<{_P}si\b[^>]*?/>|<{_P}si\b[^>]*>.*?</{_P}si>")
            .explode()
            .drop_nulls()
            .str.replace_all(rf"(?s)<{_P}rPh\b.*?</{_P}rPh>", "")
        )
        return pl.DataFrame({"shared": _unescape(_runs_text(items))}).with_row_index("index").cast({"index": pl.Int64})

    @cached_property
    def _date_styles(self) -> list[int]:
        """The cell style indexes (``s``) whose number format shows a date or a time."""
        part = self._part_of("/styles", "xl/styles.xml")
        if part is None:
            return []
        styles = self._text(part)
        custom = {
            int(i): _unescape_text(code)
            for i, code in re.findall(r'<(?:\w+:)?numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"', styles)
        }
        custom |= {
            int(i): _unescape_text(code)
            for code, i in re.findall(r'<(?:\w+:)?numFmt\b[^>]*?formatCode="([^"]*)"[^>]*?numFmtId="(\d+)"', styles)
        }
        block = re.search(r"(?s)<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", styles)
        xfs = re.findall(r"<(?:\w+:)?xf\b([^>]*)", block.group(1)) if block else []
        dates = []
        for s, attrs in enumerate(xfs):
            found = re.search(r'\bnumFmtId="(\d+)"', attrs)
            number_format = int(found.group(1)) if found else 0
            if number_format in custom:
                is_date = is_date_format(custom[number_format])
            else:
                is_date = number_format in _BUILTIN_DATE_FORMATS
            if is_date:
                dates.append(s)
        return dates

    # -- cells

    def table(self, sheet: Sheet) -> pl.DataFrame:
        """The sheet as a wide table (:func:`wide`). A sheet whose cells fill their
        rectangle is read by calamine (fast); a sparse one, whose rectangle calamine
        would fill, from its XML (the module docstring says why)."""
        assert sheet.part is not None
        xml = self._zip.read(self._member(sheet.part))
        if is_sparse(xml):
            return wide(self._parsed(xml.decode("utf-8-sig", errors="replace")))
        table = _calamine_table(self._path, sheet.name)
        errors = self._parsed(_error_cells_xml(xml))
        return _with_cells(table, errors) if errors.height else table

    def cells(self, sheet: Sheet) -> pl.DataFrame:
        """The sheet's non-empty cells, long (``CELLS_SCHEMA``)."""
        return long(self.table(sheet))

    def head(self, sheet: Sheet, rows: int) -> list[tuple[int, dict[int, str]]]:
        """The first ``rows`` rows that hold a value, as (row, {column: text}), read from
        the start of the part only: choosing a sheet costs a few rows per sheet. The
        header search needs the cells' text only (no dates), so a few hundred cells are
        read in Python, not by the vectorised reader."""
        assert sheet.part is not None
        with self._zip.open(self._member(sheet.part)) as stream:
            data, block = b"", b"x"
            while block and len(_ROW_END.findall(data)) <= 4 * rows:
                block = stream.read(1 << 16)
                data += block
        head = []
        for row_attrs, body in _HEAD_ROW.findall(data.decode("utf-8-sig", errors="replace")):
            cells = {}
            for position, (attrs, content) in enumerate(_HEAD_CELL.findall(body)):
                text = self._head_text(attrs, content)
                if text:
                    cells[_head_column(attrs, position)] = text
            number = re.search(r'\br="(\d+)"', row_attrs)
            if cells:
                head.append((int(number.group(1)) if number else len(head) + 1, cells))
            if len(head) == rows:
                break
        return head

    def _head_text(self, attrs: str, content: str) -> str:
        kind = re.search(r'\bt="(\w+)"', attrs)
        kind = kind.group(1) if kind else "n"
        if kind == "inlineStr":
            return _unescape_text("".join(re.findall(r"(?s)<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</", content)))
        value = re.search(r"(?s)<(?:\w+:)?v(?:\s[^>]*)?>(.*?)</", content)
        if value is None:
            return ""
        if kind == "s":
            return self._shared_string(int(value.group(1)))
        return _unescape_text(value.group(1))

    def _shared_string(self, index: int) -> str:
        """One shared string, read from the start of the table up to it (the header's
        strings come first, so choosing a sheet reads little of a large table)."""
        part = self._part_of("/sharedStrings", "xl/sharedStrings.xml")
        if part is None:
            return ""
        if part not in self._shared_head:
            self._shared_head[part] = _SHARED_ITEM.finditer(self._text(part))
            self._shared_seen[part] = []
        seen = self._shared_seen[part]
        for item in self._shared_head[part]:
            text = re.sub(r"(?s)<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", "", item.group(0))
            seen.append(_unescape_text("".join(re.findall(r"(?s)<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</", text))))
            if len(seen) > index:
                break
        return seen[index] if index < len(seen) else ""

    def _parsed(self, xml: str) -> pl.DataFrame:
        found = _SHEET_DATA.search(xml)
        if found is None or not found.group(1):
            return pl.DataFrame(schema=CELLS_SCHEMA)
        return self._typed(_raw_cells(_ROW_START.split(found.group(1))[1:]))

    def _typed(self, raw: pl.DataFrame) -> pl.DataFrame:
        """Raw cells (``row``, ``col``, ``t``, ``s``, ``v``, ``inline``) → text."""
        if raw.height == 0:
            return pl.DataFrame(schema=CELLS_SCHEMA)
        t = pl.col("t")
        shared = raw.filter(t == "s").height > 0
        if shared:
            raw = raw.join(
                self._shared_strings,
                left_on=pl.when(t == "s").then(pl.col("v").str.strip_chars().cast(pl.Int64, strict=False)),
                right_on="index",
                how="left",
                maintain_order="left",
            )
        number = pl.col("v").str.strip_chars()
        plain_number = t.is_null() | (t == "n")
        is_date = pl.col("s").is_in(self._date_styles).fill_null(False) & plain_number
        text = (
            pl.when(t == "s")
            .then(pl.col("shared") if shared else pl.lit(None, pl.String))
            .when(t == "inlineStr")
            .then(pl.col("inline"))
            .when(t.is_in(["str", "e"]))
            .then(pl.col("v"))
            .when(t == "b")
            .then(pl.when(number.is_in(["1", "true"])).then(pl.lit("true")).otherwise(pl.lit("false")))
            .when(t == "d")
            .then(_iso_datetime_text(number))
            .when(is_date)
            .then(serial_datetime_text(number.cast(pl.Float64, strict=False), self.date1904))
            .otherwise(number)
        )
        kind = pl.when(t.is_in(["inlineStr", "str", "e"])).then(pl.lit("escaped"))
        kind = kind.when(plain_number & ~is_date).then(pl.lit("number")).otherwise(pl.lit("other"))
        cells = raw.select("row", "col", text.alias("text"), kind.alias("kind"))
        # shared strings are unescaped once, in the table; the others here
        for which, render in (("escaped", _unescape), ("number", _number_text)):
            distinct = cells.filter(pl.col("kind") == which).get_column("text").drop_nulls().unique()
            if distinct.len():
                cells = cells.with_columns(
                    pl.when(pl.col("kind") == which)
                    .then(pl.col("text").replace_strict(distinct, render(distinct), default=None))
                    .otherwise(pl.col("text"))
                    .alias("text")
                )
        return (
            cells.filter(pl.col("text").is_not_null() & (pl.col("text") != ""))
            .select(CELLS_SCHEMA.names())
            .unique(["row", "col"], keep="first", maintain_order=True)
            .cast(dict(CELLS_SCHEMA))
        )


def _raw_cells(chunks: list[str]) -> pl.DataFrame:
    """Every ``<c>`` of the rows (a chunk per ``<row``): row, col, type, style, value,
    inline text. A row or cell without its ``r`` follows the one before it."""
    rows = pl.DataFrame({"chunk": chunks}).with_columns(
        pl.col("chunk").str.extract(r'^[^>]*?\br="(\d+)"', 1).cast(pl.Int64, strict=False).alias("_r"),
    )
    rows = _follow_on(rows, "_r", "row", first=1)
    cells = rows.select("row", pl.col("chunk").str.extract_all(_CELL).alias("cell")).explode("cell").drop_nulls("cell")
    head = pl.col("cell").str.extract(rf"^<{_P}c\b([^>]*)", 1)
    letters = head.str.extract(r'\br="\$?([A-Za-z]{1,3})\$?\d+"', 1).str.to_uppercase()
    cells = cells.with_columns(
        head.str.extract(r'\bt="(\w+)"', 1).alias("t"),
        head.str.extract(r'\bs="(\d+)"', 1).cast(pl.Int64, strict=False).alias("s"),
        pl.col("cell").str.extract(rf"(?s)<{_P}v(?:\s[^>]*)?>(.*?)</{_P}v>", 1).alias("v"),
        _runs_text(pl.col("cell").str.extract(rf"(?s)<{_P}is\b[^>]*>(.*?)</{_P}is>", 1)).alias("inline"),
        _letters_index(letters).alias("_c"),
    )
    cells = _follow_on(cells, "_c", "col", first=0, within="row")
    return cells.select(pl.col("row").cast(pl.Int32), pl.col("col").cast(pl.Int32), "t", "s", "v", "inline")


def _follow_on(frame: pl.DataFrame, given: str, out: str, first: int, within: str | None = None) -> pl.DataFrame:
    """``out``: the position in ``given`` where the XML names one, else one more than
    the position before it (``first`` for the first), within each ``within`` group."""
    keys = [within] if within else []
    run_id = pl.col(given).is_not_null().cum_sum()
    frame = frame.with_columns((run_id.over(keys) if keys else run_id).alias("_run"))
    run = [*keys, "_run"]
    position = pl.col(given).first().over(run)
    offset = pl.int_range(pl.len()).over(run)
    return frame.with_columns(
        pl.when(position.is_null()).then(offset + first).otherwise(position + offset).alias(out)
    ).drop("_run")


def _head_column(attrs: str, position: int) -> int:
    ref = re.search(r'\br="\$?([A-Za-z]{1,3})\$?\d+"', attrs)
    return column_index(ref.group(1)) if ref else position


def _letters_index(letters: pl.Expr) -> pl.Expr:
    """Column letters (A…XFD) → 0-based index, by expression."""
    padded = letters.str.pad_start(3, "@")  # "@" is the character before "A": worth 0
    digit = [(padded.str.slice(i, 1).str.encode("hex").str.to_integer(base=16, strict=False) - 64) for i in range(3)]
    return digit[0] * 676 + digit[1] * 26 + digit[2] - 1


def _runs_text(items: pl.Expr | pl.Series) -> pl.Expr | pl.Series:
    """The text of an ``<si>``/``<is>`` item: its ``<t>`` elements (rich-text runs) joined."""
    return (
        items.str.extract_all(_TEXT_RUN)
        .list.eval(pl.element().str.replace(r"^<[^>]*>", "").str.replace(r"</[^>]*>$", ""))
        .list.join("")
    )


_NAMED_ESCAPES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'", "&amp;": "&"}


def _unescape(texts: pl.Series) -> pl.Series:
    """XML character references and OOXML's ``_xHHHH_`` escapes undone, left to right
    in one pass (``&amp;lt;`` is ``&lt;``, ``_x005F_x000D_`` is ``_x000D_``)."""
    numeric = texts.str.extract_all(r"&#[xX][0-9A-Fa-f]+;|&#[0-9]+;|_x[0-9A-Fa-f]{4}_").explode().drop_nulls().unique()
    replace = dict(_NAMED_ESCAPES)
    for token in numeric.to_list():
        if token.startswith("_x"):
            replace[token] = chr(int(token[2:6], 16))
        elif token[2] in "xX":
            replace[token] = chr(int(token[3:-1], 16))
        else:
            replace[token] = chr(int(token[2:-1]))
    return texts.str.replace_many(list(replace), list(replace.values()))


def _unescape_text(text: str) -> str:
    """:func:`_unescape` for one text (a sheet name, a header cell)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), html.unescape(text))


def _number_text(numbers: pl.Series) -> pl.Series:
    """A number as a spreadsheet shows it unformatted: ``34`` (not ``34.0``), ``34.5``,
    ``0.0000001`` (not ``1E-07``)."""
    plain = numbers.str.replace(r"^(-?\d+)\.0*$", "${1}").str.replace(r"^(-?\d+\.\d*?)0+$", "${1}")
    odd = numbers.filter(numbers.is_not_null() & ~numbers.str.contains(r"^-?\d+(?:\.\d+)?$")).unique()
    if odd.is_empty():
        return plain
    shown = {}
    for text in odd.to_list():
        try:
            shown[text] = _plain_decimal(float(text))
        except ValueError:
            shown[text] = text
    return pl.select(
        pl.when(numbers.is_in(list(shown))).then(numbers.replace_strict(shown, default=None)).otherwise(plain)
    ).to_series()


def _plain_decimal(value: float) -> str:
    """A float without exponent, trailing zeros or a trailing point."""
    text = format(value, "f") if abs(value) >= 1e-4 or value == 0 else format(value, ".20f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if "e" not in repr(value) and "." in repr(value) and len(repr(value)) < len(text):
        return repr(value).removesuffix(".0")
    return text


def serial_datetime_text(serial: pl.Expr, date1904: bool = False) -> pl.Expr:
    """An Excel serial date/time as ``YYYY-MM-DD HH:MM:SS``, to the nearest second.
    The 1900 system counts 1900-02-29, which never was: serials below 60 start a day
    later, 60 is shown as 1900-02-28 (as Excel and calamine show them)."""
    ms = (serial * _MS_PER_DAY).round(0).cast(pl.Int64, strict=False)
    if date1904:
        moment = pl.lit(_EPOCH_1904) + pl.duration(milliseconds=ms)
    else:
        shifted = pl.when(serial < 60).then(ms + _MS_PER_DAY).when(serial < 61).then(ms).otherwise(ms)
        moment = pl.lit(_EPOCH_1900) + pl.duration(milliseconds=shifted)
        moment = pl.when((serial >= 60) & (serial < 61)).then(pl.lit(datetime(1900, 2, 28))).otherwise(moment)
    seconds = moment.dt.round("1s")
    return pl.when(serial.is_not_null() & (serial >= 0)).then(seconds.dt.strftime("%Y-%m-%d %H:%M:%S"))


def _iso_datetime_text(text: pl.Expr) -> pl.Expr:
    """A strict OOXML date cell (``t="d"``, ISO 8601) as ``YYYY-MM-DD HH:MM:SS``."""
    moment = text.str.slice(0, 19).str.replace("T", " ").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    day = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    return pl.coalesce(moment.dt.strftime("%Y-%m-%d %H:%M:%S"), day.dt.strftime("%Y-%m-%d 00:00:00"), text)


def is_date_format(code: str) -> bool:
    """Whether a number format code shows a date or time: a d, m, y, h or s outside
    quotes, brackets and escapes in its first section (``[h]:mm``, ``yyyy-mm-dd``,
    ``[$-41D]d mmmm yyyy``; not ``0.00``, ``"Datum: "0`` or ``[Red]0``)."""
    if code.strip().lower() == "general":
        return False
    quoted = escaped = False
    bracket = ""
    in_bracket = False
    for ch in code:
        if escaped:
            escaped = False
        elif quoted:
            quoted = ch != '"'
        elif in_bracket:
            if ch == "]":
                in_bracket = False
                if re.fullmatch(r"[hms]+", bracket, re.I):  # elapsed time: [h], [mm], [ss]
                    return True
            else:
                bracket += ch
        elif ch in "\\_*":
            escaped = True
        elif ch == '"':
            quoted = True
        elif ch == "[":
            in_bracket, bracket = True, ""
        elif ch == ";":
            return False
        elif ch.lower() in "dmyhs":
            return True
    return False


def is_sparse(xml: bytes) -> bool:
    """Whether the rectangle from the sheet's first row to its last, and from column A
    to its farthest cell, may hold far more cells than the sheet has (a stray value far
    down or right): calamine would fill it. "Far more" is more than four times the
    cells the XML can hold (each takes at least ``_MIN_CELL_BYTES``) plus 250 000, so
    calamine's work stays in proportion to the XML it reads. One scan for the rows and
    one search for a cell beyond the columns that allows (not a list of every cell)."""
    rows = _row_numbers(xml)
    if not rows:
        return False
    allowed = 4 * max(len(xml) // _MIN_CELL_BYTES, len(rows)) + 250_000
    width = allowed // (max(rows) - min(rows) + 1)  # the columns the rectangle may span
    return width < _MAX_COLUMNS and _has_column_from(xml, width)


def _has_column_from(xml: bytes, index: int) -> bool:
    """Whether a cell reference names the column ``index`` (0-based) or one farther
    right: letters of one length sort as their columns do, and longer ones are farther."""
    letters = column_letters(index)
    farther = [letters] + [
        letters[:i] + f"[{chr(ord(c) + 1)}-Z]" + "[A-Z]" * (len(letters) - i - 1)
        for i, c in enumerate(letters)
        if c != "Z"
    ]
    if len(letters) < 3:
        farther.append(f"[A-Z]{{{len(letters) + 1},3}}")
    return re.search(rb' r="\$?(?:' + "|".join(farther).encode() + rb")\$?\d", xml) is not None


# Searched from a literal ("row", 't="e"'): a pattern that starts with "<" or "\b" is
# tried at every tag or byte of the sheet (3 s of a 350 MB sheet instead of 0.2 s).
_ROW_NUMBER = re.compile(rb'row\b[^>]*? r="(\d+)"')
_PLAIN_ROW_NUMBER = re.compile(rb'<row\b[^>]*? r="(\d+)"')
_TAG_PREFIX = re.compile(rb"\w+:")
_ERROR_TYPE = re.compile(rb't="e"')
_WORD = re.compile(rb"\w")


def _row_numbers(xml: bytes) -> list[int]:
    """The r of every row tag, as ``<(?:\\w+:)?row\\b[^>]*? r="(\\d+)"`` finds them (a
    "row" not right after "<" or "<prefix:" is text, not a tag). Without a prefixed tag
    in the part, "<row" can only be a tag (text escapes "<"): one findall, no Python
    per row."""
    if b":row" not in xml:
        return [int(number) for number in _PLAIN_ROW_NUMBER.findall(xml)]
    rows = []
    for found in _ROW_NUMBER.finditer(xml):
        start = found.start()
        if xml[start - 1 : start] != b"<":
            opening = xml.rfind(b"<", 0, start)
            if opening < 0 or not _TAG_PREFIX.fullmatch(xml, opening + 1, start):
                continue
        rows.append(int(found.group(1)))
    return rows


def _error_cells_xml(xml: bytes) -> str:
    """A sheet part holding only the error cells of ``xml``, each in a row of its own
    (error cells are rare: found by their ``t="e"``, not by reading every cell)."""
    rows = []
    for found in _ERROR_TYPE.finditer(xml):
        if found.start() and _WORD.match(xml, found.start() - 1, found.start()):
            continue  # the end of a longer attribute name (``xt="e"``): no word boundary
        start = xml.rfind(b"<", 0, found.start())  # attributes hold no "<": the cell's tag
        tag_end = xml.find(b">", found.end())
        if start < 0 or tag_end < 0:
            continue
        end = tag_end + 1 if xml[tag_end - 1 : tag_end] == b"/" else _CELL_END.search(xml, tag_end)
        end = end if isinstance(end, int) else (end.end() if end else -1)
        ref = re.search(rb' r="\$?[A-Z]{1,3}\$?(\d+)"', xml[start:tag_end])
        if end > 0 and ref:
            rows.append(b'<row r="' + ref.group(1) + b'">' + xml[start:end] + b"</row>")
    return "<sheetData>" + b"".join(rows).decode("utf-8", errors="replace") + "</sheetData>"


def _calamine_table(path: Path, sheet: str) -> pl.DataFrame:
    """The sheet as fastexcel reads it, as a wide table (:func:`wide`)."""
    try:
        loaded = fastexcel.read_excel(str(path)).load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string")
        frame = loaded.to_polars()
        # every column is selected (no use_columns); available_columns() would list them again, slowly
        absolute = {info.name: info.absolute_index for info in loaded.selected_columns}
    except Exception as exc:  # calamine's errors: a part it cannot read
        raise WorkbookError(type(exc).__name__) from None
    frame = frame.rename({c: str(absolute.get(c, i)) for i, c in enumerate(frame.columns)})
    # Only the columns that hold a cell, as wide() gives them: calamine fills the whole
    # rectangle, and a stray cell far right (XFD5) would otherwise cost 16 000 empty
    # columns in every later step. A column that holds nothing has no header and no
    # value, which ingest passes by anyway. Twice: the all-null columns before the cast
    # (so the 16 000 are never cast), then those that held only empty strings.
    frame = _used_columns(_used_columns(frame).with_columns(pl.all().cast(pl.String).replace("", None)))
    return frame.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("row"))


def _used_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` without its columns that are null on every row."""
    nulls = frame.null_count().row(0) if frame.width else ()
    return frame.select(c for c, n in zip(frame.columns, nulls) if n < frame.height)


def wide(cells: pl.DataFrame) -> pl.DataFrame:
    """Long cells → one row per sheet row that holds a value: ``row`` and one String
    column per used column, named by its 0-based index (``"0"``, ``"3"``), in order."""
    if cells.height == 0:
        return pl.DataFrame(schema={"row": pl.Int32})
    table = cells.pivot(on="col", index="row", values="text", aggregate_function="first").sort("row")
    columns = sorted((c for c in table.columns if c != "row"), key=int)
    return table.select(*columns, pl.col("row").cast(pl.Int32))


def long(table: pl.DataFrame) -> pl.DataFrame:
    """A wide table → its non-empty cells (``CELLS_SCHEMA``), by row and column."""
    if table.width <= 1:
        return pl.DataFrame(schema=CELLS_SCHEMA)
    return (
        table.unpivot(index="row", variable_name="col", value_name="text")
        .filter(pl.col("text").is_not_null() & (pl.col("text") != ""))
        .select(pl.col("row").cast(pl.Int32), pl.col("col").cast(pl.Int32), "text")
        .sort("row", "col")
    )


def _with_cells(table: pl.DataFrame, cells: pl.DataFrame) -> pl.DataFrame:
    """``table`` with ``cells`` (long) written into it (calamine reads an error cell as
    empty: its text is put back). One join per column that has such a cell."""
    for col, part in cells.partition_by("col", as_dict=True).items():
        name = str(col[0])
        values = part.select("row", pl.col("text").alias("_cell"))
        if name not in table.columns:
            table = table.with_columns(pl.lit(None, pl.String).alias(name))
        table = (
            table.join(values, on="row", how="left", maintain_order="left")
            .with_columns(pl.coalesce("_cell", name).alias(name))
            .drop("_cell")
        )
    columns = sorted((c for c in table.columns if c != "row"), key=int)
    return table.select(*columns, "row")


# -------------------------------------------------------------------- other formats


class CalamineWorkbook:
    """An ``.xls``, ``.xlsb`` or ``.ods`` workbook, read by fastexcel (calamine)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        try:
            self._reader = fastexcel.read_excel(str(path))
            names = list(self._reader.sheet_names)
        except Exception as exc:  # calamine's errors: corrupt file, not a workbook, …
            raise WorkbookError(type(exc).__name__) from None
        if not names:
            raise WorkbookError("no sheets")
        self.date1904 = False
        # fastexcel does not say whether a sheet of these formats is hidden: the sheet is
        # chosen by its content all the same
        self.sheets = [Sheet(name, i, hidden=False) for i, name in enumerate(names)]

    def table(self, sheet: Sheet) -> pl.DataFrame:
        return _calamine_table(self._path, sheet.name)

    def cells(self, sheet: Sheet) -> pl.DataFrame:
        return long(self.table(sheet))

    def head(self, sheet: Sheet, rows: int) -> list[tuple[int, dict[int, str]]]:
        cells = self.cells(sheet)
        first = cells.join(cells.select(pl.col("row").unique().sort().head(rows)), on="row", how="semi")
        return [
            (row, dict(zip(group["col"], group["text"])))
            for (row,), group in first.group_by("row", maintain_order=True)
        ]


# ------------------------------------------------------------ the export's sheet

_PREFERRED_SHEETS = ("export", "data")


@dataclass(frozen=True)
class _Candidate:
    sheet: Sheet
    has_keys: bool
    score: int


def workbook_grid(path: Path, shown: str) -> Grid:
    """The sheet that holds the export, as a Grid: the sheet whose header row holds
    the key columns Klient (4) and Datum för aktualisering (5), wherever it stands and
    whether hidden or not (a hidden sheet of drop-down lists or a pivot table Excel put
    first is passed by). Several such sheets: the one named Export or Data, else the
    first visible one; the others are named in a ``several_export_sheets`` note. No
    such sheet: the one whose header row names the most variables (ingest then says
    which key column is missing, naming the sheet)."""
    try:
        book = open_workbook(path)
        # one sheet (the usual export): it is the one, whatever it holds
        candidates = (
            [_Candidate(book.sheets[0], True, 1)]
            if len(book.sheets) == 1
            else [_candidate(book, s) for s in book.sheets]
        )
        chosen = _chosen_sheet(candidates)
        table = book.table(chosen.sheet)
    except WorkbookError as exc:
        raise IngestError(
            f"Filen {shown} kunde inte läsas som en Excel-arbetsbok ({path.suffix.lower()}): filen är skadad "
            f"eller inte en Excel-fil ({exc}). Öppna filen i Excel och spara den igen som .xlsx, eller "
            f"exportera på nytt från SUreg."
        ) from None
    columns = [c for c in table.columns if c != "row"]
    frame = _dates_as_dates(table.rename({c: cell_name(i) for i, c in enumerate(columns)}))
    others = [c.sheet.name for c in candidates if c.has_keys and c.sheet != chosen.sheet]
    notes = [{"rule": "several_export_sheets", "value": ", ".join(others)}] if others else []
    return Grid(
        "xlsx",
        frame,
        sheet=chosen.sheet.name,
        sheets=[c.sheet.name for c in candidates],
        column_refs=[column_letters(int(c)) for c in columns],
        notes=notes,
        sheet_hidden=chosen.sheet.hidden,
    )


def _dates_as_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """An Excel date cell is read as "YYYY-MM-DD 00:00:00": show it as a date. Only the
    columns that hold such a text are rewritten (rewriting all ~70 copied every cell)."""
    cells = [c for c in frame.columns if c != "row"]
    if not cells or frame.height == 0:
        return frame
    midnight = frame.select(pl.col(c).str.contains(r"[ T]00:00:00(\.0+)?$").any() for c in cells).row(0)
    return frame.with_columns(
        pl.col(c).str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$", "${1}")
        for c, has in zip(cells, midnight, strict=True)
        if has
    )


def _candidate(book: OoxmlWorkbook | CalamineWorkbook, sheet: Sheet) -> _Candidate:
    rows = [(row, [cells.get(c) for c in range(max(cells) + 1)]) for row, cells in book.head(sheet, HEADER_SEARCH_ROWS)]
    rows.sort(key=lambda row_cells: row_cells[0])
    found = find_header(rows)
    # an export has rows under its header (a sheet of instructions may hold a header alone)
    has_rows = found is not None and (found[0] + 1 < len(rows) or len(rows) == HEADER_SEARCH_ROWS)
    return _Candidate(sheet, bool(found and found[1] and has_rows), found[2] if found else 0)


def _chosen_sheet(candidates: list[_Candidate]) -> _Candidate:
    def preferred(c: _Candidate) -> tuple:
        named = normalise(c.sheet.name) in _PREFERRED_SHEETS
        return (c.has_keys, named, not c.sheet.hidden, c.score > 0, c.score, -c.sheet.position)

    return max(candidates, key=preferred)
