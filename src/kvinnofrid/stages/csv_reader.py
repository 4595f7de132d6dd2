"""Reading a delimited text export (``.csv``, ``.txt``, ``.tsv``): its encoding, its
delimiter, its records with the line each starts on.

The encoding is found by what the file says, not by which decoder happens not to
fail: a byte-order mark (UTF-8, UTF-16, also doubled), then UTF-8; a file that is not
UTF-8 is decoded as each of Windows-1252 (Excel's "CSV"), Mac Roman (Excel's "CSV
(Macintosh)") and DOS Latin-1 / code page 850 (Excel's "CSV (MS-DOS)"), and the one
under which the header row names the most codebook variables wins (ties: the one with
the most Swedish letters). UTF-8 that was decoded as Windows-1252 and saved again
(``KÃ¶n``) is repaired the same way. UTF-16 without a mark (every other byte zero) is
recognised too. The delimiter (``;``, ``,``, tab or ``|``) is the one under which the
header holds the key columns and the most variables. Line endings may be CRLF, LF or
CR (old Mac); quoted fields may hold delimiters and line breaks, and a quote never
closed is a located error instead of swallowing the rest of the file.

The records are read by polars (:func:`csv_table`) when the text is plain: every quote
opens a field, closes one or doubles a quote inside one, lines end in LF or CRLF. That
is checked, and the line each record starts on found, from the positions of the quote,
delimiter and line-break bytes (numpy, no Python per line). Python's ``csv`` module
reads anything else: a quote inside an unquoted field, a quote never closed (the located
error), a lone CR, a NUL. Both give the same cells and row numbers (tested on random
texts); the module's record splitter cost ~15 times the polars read at national scale.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import re
from pathlib import Path

import numpy as np
import polars as pl

from kvinnofrid.stages.grid import Grid, IngestError, cell_name
from kvinnofrid.stages.headers import HEADER_SEARCH_ROWS, find_header

DELIMITERS = (";", ",", "\t", "|")
TEXT_EXTENSIONS = (".csv", ".txt", ".tsv")
_SINGLE_BYTE = ("cp1252", "mac_roman", "cp850")
_SWEDISH = re.compile("[åäöÅÄÖé]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")  # no text file holds these


class _UnbalancedQuotes(csv.Error):
    def __init__(self, line: int) -> None:
        super().__init__(f"line {line}")
        self.line = line


def csv_records(text: str, delimiter: str, limit: int | None = None) -> list[tuple[int, list[str]]]:
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


def _records(data: bytes, delimiter: str) -> tuple[np.ndarray, int] | None:
    """(the line each record starts on, the most fields a record has) of UTF-8 text whose
    every quote opens a field, closes one or doubles a quote inside one, and whose lines
    end in LF or CRLF; None for any other text. Positions of bytes, no Python per line:
    a line break, a delimiter is inside quotes when an odd number of quotes precede it."""
    buf = np.frombuffer(data, np.uint8)
    size, delim = buf.size, ord(delimiter)
    returns = np.flatnonzero(buf == 13)
    if 0 in data or (returns.size and (returns[-1] + 1 >= size or (buf[returns + 1] != 10).any())):
        return None  # a NUL, or a line ending in a lone CR (old Mac): the csv module reads it
    quotes = np.flatnonzero(buf == 34)
    if quotes.size % 2:
        return None  # a quote never closed: the csv module says where
    opening, closing = quotes[0::2], quotes[1::2]
    before = buf[np.maximum(opening - 1, 0)]
    after = buf[np.minimum(closing + 1, size - 1)]
    if not (
        ((opening == 0) | np.isin(before, [delim, 10, 34])).all()
        and ((closing + 1 == size) | np.isin(after, [delim, 10, 13, 34])).all()
    ):
        return None  # a quote inside an unquoted field, or text after a closing quote
    breaks = np.flatnonzero(buf == 10)
    ends = breaks[np.searchsorted(quotes, breaks) % 2 == 0]  # record ends: breaks outside quotes
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends, [size]])
    if starts[-1] == size:  # the text ends with a line break: no record after it
        starts, stops = starts[:-1], stops[:-1]
    stops = stops - ((stops > starts) & (buf[np.maximum(stops - 1, 0)] == 13))  # CRLF: the CR is no field
    fields = np.flatnonzero(buf == delim)
    fields = fields[np.searchsorted(quotes, fields) % 2 == 0]
    counts = np.searchsorted(fields, stops) - np.searchsorted(fields, starts) + 1
    counts[stops == starts] = 0  # a blank line has no fields
    return np.searchsorted(breaks, starts) + 1, int(counts.max(initial=0))


def csv_table(text: str, delimiter: str) -> pl.DataFrame | None:
    """The records as a frame (``c0`` … and ``row``, the line each starts on), as
    :func:`csv_records` gives them (an empty field may be null instead of ``""``: both are
    an empty cell); None when the text needs the csv module (see the module docstring).
    Polars parses; :func:`_records` vouches for its reading and gives the line numbers."""
    data = text.encode("utf-8")
    found = _records(data, delimiter)
    if found is None:
        return None
    rows, width = found
    row = pl.Series("row", rows, dtype=pl.Int32)
    if width == 0:
        return pl.DataFrame([row])
    # a first line with every field makes polars read them all (a shorter record: nulls)
    head = (delimiter * (width - 1) + "\n").encode("ascii")
    frame = pl.read_csv(head + data, separator=delimiter, has_header=False, infer_schema=False, quote_char='"')
    if frame.height != rows.size + 1 or frame.width != width:
        return None
    return frame.slice(1).rename({c: cell_name(i) for i, c in enumerate(frame.columns)}).with_columns(row)


def _header_quality(text: str) -> tuple[tuple[bool, int], str]:
    """((has key columns, recognised columns), delimiter) of the best header the
    first rows give under any delimiter."""
    best: tuple[tuple[bool, int], str] = ((False, 0), DELIMITERS[0])
    head_text = text[:65536]
    for delimiter in DELIMITERS:
        found = find_header([(line, fields) for line, fields in csv_records(head_text, delimiter, HEADER_SEARCH_ROWS)])
        if found is not None and (found[1], found[2]) > best[0]:
            best = ((found[1], found[2]), delimiter)
    return best


def _candidates(data: bytes) -> list[tuple[str, str]]:
    """(text, encoding name) under every decoding the bytes allow, in order of trust."""
    for bom, codec, name in ((b"\xff\xfe", "utf-16-le", "utf-16"), (b"\xfe\xff", "utf-16-be", "utf-16")):
        if data.startswith(bom):
            try:
                return [(data[2:].decode(codec).lstrip("\ufeff"), name)]
            except UnicodeDecodeError:
                break
    if len(data) >= 4 and data[1:200:2].count(0) > 0.9 * len(data[1:200:2]) and 0 not in data[0:200:2]:
        try:
            return [(data.decode("utf-16-le"), "utf-16")]
        except UnicodeDecodeError:
            pass
    body, name = (data[3:], "utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else (data, "utf-8")
    try:
        text = body.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return [(_decode(data, codec), codec) for codec in _SINGLE_BYTE]
    candidates = [(text, name)]
    if re.search("Ã[\u0080-\u00bf]", text):  # UTF-8 read as Windows-1252 and saved again
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            candidates.append((text.encode("cp1252").decode("utf-8"), f"{name} (dubbelkodad)"))
    return candidates


def _decode(data: bytes, codec: str) -> str:
    text = data.decode(codec, errors="replace")
    return text.removeprefix("\u00ef\u00bb\u00bf").lstrip("\ufeff")


def decode(data: bytes) -> tuple[str, str, str]:
    """(text, encoding, delimiter): the decoding and delimiter under which the header
    row names the most codebook variables (see the module docstring)."""
    best = None
    for order, (text, encoding) in enumerate(_candidates(data)):
        quality, delimiter = _header_quality(text)
        swedish = len(_SWEDISH.findall(text[:65536]))
        rank = (quality, swedish, -order)
        if best is None or rank > best[0]:
            best = (rank, text, encoding, delimiter)
    assert best is not None
    return best[1], best[2], best[3]


def _refuse_binary(data: bytes, text: str, shown: str) -> None:
    if data.startswith(b"PK\x03\x04"):
        raise IngestError(
            f"Filen {shown} är en Excel-arbetsbok men har filändelsen {Path(shown).suffix}. "
            f"Byt filändelsen till .xlsx eller spara filen som CSV."
        )
    sample = text[:65536]
    control = len(_CONTROL.findall(sample))
    if control > max(2, len(sample) // 200):
        raise IngestError(
            f"Filen {shown} är ingen textfil (den innehåller binära data). "
            f"Skicka exporten från SUreg som .xlsx eller .csv."
        )


def csv_grid(path: Path, shown: str) -> Grid:
    """The file as a Grid (format ``csv``, with its encoding and delimiter)."""
    data = path.read_bytes()
    if not data.strip():
        raise IngestError(f"Filen {shown} är tom. Exportera på nytt från SUreg och skicka filen igen.")
    if data.startswith(b"PK\x03\x04"):
        _refuse_binary(data, "", shown)
    text, encoding, delimiter = decode(data)
    _refuse_binary(data, text, shown)
    frame = csv_table(text, delimiter)
    if frame is not None:
        return Grid("csv", frame, encoding=encoding, delimiter=delimiter)
    try:
        records = csv_records(text, delimiter)
    except _UnbalancedQuotes as exc:
        raise IngestError(
            f'Filen {shown} kunde inte läsas som CSV: ett citattecken (") som börjar på rad {exc.line} '
            f"avslutas aldrig, så resten av filen skulle bli ett enda fält. Rätta citattecknet på den "
            f"raden (ofta i en kommentar) eller exportera på nytt från SUreg."
        ) from None
    columns = list(itertools.zip_longest(*(f for _, f in records), fillvalue=None)) if records else []
    frame = pl.DataFrame(
        {cell_name(i): pl.Series(values=list(col), dtype=pl.String) for i, col in enumerate(columns)}
        | {"row": pl.Series(values=[line for line, _ in records], dtype=pl.Int32)},
    )
    return Grid("csv", frame, encoding=encoding, delimiter=delimiter)
