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

The records are split by polars expressions (:func:`csv_table`): lines, a quote count
per line (a line starts a record when the quotes before it are balanced), fields split
on the delimiter outside quotes. Python's ``csv`` module reads only what that path
cannot vouch for: a quote inside an unquoted field, a quote never closed (the located
error), a NUL character. Both give the same cells and row numbers (tested on random
texts); the module's record splitter cost ~15 times the polars read at national scale.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import re
from pathlib import Path

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


# A line and its terminator (CRLF, LF or a lone CR, as the csv module splits them).
_LINE = r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$"
# Characters str.splitlines() also breaks on, which the csv module keeps inside a field.
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SENTINEL = "\x00"  # marks a field boundary while splitting (texts holding NUL go the slow way)


def _lines(text: str) -> pl.Series:
    """The text's physical lines, each with its terminator."""
    if _OTHER_BREAKS.search(text) is None:  # splitlines (C) is much faster than the regex
        return pl.Series(text.splitlines(keepends=True), dtype=pl.String)
    return pl.Series([text], dtype=pl.String).str.extract_all(_LINE).explode().drop_nulls()


def _well_formed(delimiter: str) -> str:
    """A record whose every quote opens or closes a quoted field, or doubles a quote in one."""
    d = f"\\x{{{ord(delimiter):X}}}"  # the regex's own hex escape: any delimiter, even tab
    field = f'"(?:[^"]|"")*"|[^"{d}\\r\\n]*'
    return f"^(?:{field})(?:{d}(?:{field}))*$"


def _split_quoted(records: pl.DataFrame, delimiter: str) -> pl.DataFrame:
    """``_r``, ``fields`` of well-formed records that hold quotes: split on every quote,
    the parts between quotes are inside a field; outside them the delimiter separates
    fields and an empty part between two quoted parts is a doubled quote."""
    parts = records.select("_r", pl.col("text").str.split('"').alias("p")).explode("p")
    parts = parts.with_columns(i=pl.int_range(pl.len()).over("_r"), n=pl.len().over("_r"))
    outside, p = pl.col("i") % 2 == 0, pl.col("p")
    doubled = outside & (p == "") & (pl.col("i") > 0) & (pl.col("i") < pl.col("n") - 1)
    piece = pl.when(doubled).then(pl.lit('"')).when(outside).then(p.str.replace_all(delimiter, _SENTINEL, literal=True))
    joined = parts.group_by("_r", maintain_order=True).agg(piece.otherwise(p).str.join("").alias("p"))
    return joined.select("_r", pl.col("p").str.split(_SENTINEL).alias("fields"))


def csv_table(text: str, delimiter: str) -> pl.DataFrame | None:
    """The records as a frame (``c0`` … and ``row``, the line each starts on), as
    :func:`csv_records` gives them; None when the text needs the csv module (see the
    module docstring)."""
    if _SENTINEL in text:
        return None
    lines = pl.DataFrame({"text": _lines(text)}).with_columns(
        q=pl.col("text").str.count_matches('"', literal=True).cast(pl.Int64), row=pl.int_range(1, pl.len() + 1)
    )
    if lines.height == 0:
        return pl.DataFrame({"row": pl.Series([], dtype=pl.Int32)})
    if int(lines["q"].sum()) % 2:  # a quote never closed: the csv module locates it
        return None
    records = lines.with_columns(_r=((pl.col("q").cum_sum() - pl.col("q")) % 2 == 0).cum_sum())
    if records.height and records["_r"][-1] < records.height:  # quoted line breaks: join the lines
        records = records.group_by("_r", maintain_order=True).agg(pl.col("row").first(), pl.col("text").str.join(""))
    records = records.select(
        "_r",
        "row",
        pl.col("text").str.replace(r"(?:\r\n|\n|\r)$", ""),
        pl.col("text").str.contains('"', literal=True).alias("_q"),
    )
    quoted = records.filter("_q")
    if quoted.height and not quoted["text"].str.contains(_well_formed(delimiter)).all():
        return None
    fields = records.filter(~pl.col("_q")).select("_r", pl.col("text").str.split(delimiter).alias("fields"))
    if quoted.height:
        fields = pl.concat([fields, _split_quoted(quoted, delimiter)])
    # a blank line is a record without fields (all cells empty), as the csv module reads it
    fields = (
        records.select("_r", "row", (pl.col("text") == "").alias("_blank"))
        .join(fields, on="_r", how="left")
        .sort("_r")
        .with_columns(pl.when(~pl.col("_blank")).then(pl.col("fields")))
    )
    width = int(fields["fields"].list.len().max() or 0)
    return fields.select(
        *[pl.col("fields").list.get(i, null_on_oob=True).alias(cell_name(i)) for i in range(width)],
        pl.col("row").cast(pl.Int32),
    )


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
