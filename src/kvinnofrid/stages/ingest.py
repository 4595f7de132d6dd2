"""Ingest: one raw municipal export → a raw frame + metadata.

The contract is ``docs/data-contract.md`` (what a file may look like) and the
"ingest" section of ``docs/stages.md`` (what comes out). Everything stays text here; the
``clean`` stage parses values. Each concern has its module:

* ``xlsx``: a workbook's sheets and used cells, and the sheet that holds the export;
* ``csv_reader``: a delimited text file's encoding, delimiter and records;
* ``headers``: what each header is (label, alias, SUV number, option, risk field,
  comment, local), and the header row among the first rows;
* ``screening``: personal numbers, Excel errors, shifted CSV records and unit texts
  that are no unit, removed before anything is parsed;
* this module: the frame of one file from its grid — the columns recognised, Klient (4)
  and Handläggare (3) replaced by keyed pseudonyms, comments and Klientförslag (217)
  counted and dropped, local variables listed, issues located.

The clear text of a personal or comment cell never reaches the frame, the metadata, a
log line or an exception message. Row numbers are what the unit sees: the spreadsheet
row (1-based, title rows included) or the physical line where a CSV record starts.

Issues ingest emits (``rules.ISSUE_SCHEMA`` rows in the metadata's ``issues``):
``local_variable`` (one per local column), ``column_label_differs`` (a column read by
its SUV number: the label found and the one expected), ``column_not_recognised`` (a
column that points at a national variable the file has no column for),
``several_export_sheets``, ``personal_identity_number``, ``excel_error_value`` and
``unknown_value`` (a one-column-per-option mark that is neither chosen nor not
chosen). Everything that makes a file unreadable raises :class:`IngestError`.

Excel serial numbers in text or number cells of date columns are **left as text**
(``44625``); ``clean`` parses them like every other date spelling. Excel date cells
are rendered ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM:SS`` when the time is not midnight).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from kvinnofrid.spec import codebook as cbm
from kvinnofrid.spec.codebook import normalise
from kvinnofrid.spec.municipalities import KnownUnits
from kvinnofrid.spec.rules import ISSUE_SCHEMA
from kvinnofrid.stages.csv_reader import TEXT_EXTENSIONS, csv_grid
from kvinnofrid.stages.distinct import per_distinct_columns, per_distinct_rows
from kvinnofrid.stages.grid import Grid, IngestError, cell_name
from kvinnofrid.stages.headers import (
    HEADER_SEARCH_ROWS,
    PLACEHOLDER,
    ColumnRole,
    classify_header,
    clean_header,
    codebook_index,
    find_header,
    option_code,
    resolve_roles,
)
from kvinnofrid.stages.pseudonym import pseudonymise
from kvinnofrid.stages.rawfiles import round_folder_of
from kvinnofrid.stages.redaction import looks_like_personal_number, shown_value_expr
from kvinnofrid.stages.screening import (
    Columns,
    header_width,
    most_common,
    screen_cells,
    screen_unit_texts,
    stripped,
)
from kvinnofrid.stages.xlsx import CALAMINE_EXTENSIONS, OOXML_EXTENSIONS, workbook_grid

log = logging.getLogger(__name__)

__all__ = [
    "HEADER_SEARCH_ROWS",
    "ColumnRole",
    "FileLayout",
    "IngestError",
    "classify_header",
    "ingest_file",
    "most_common",
    "pool_files",
    "read_export",
    "read_layout",
    "split_multi_tokens",
    "write_ingest",
]

WORKBOOK_EXTENSIONS = OOXML_EXTENSIONS + CALAMINE_EXTENSIONS
EXPORT_EXTENSIONS = WORKBOOK_EXTENSIONS + TEXT_EXTENSIONS
RISK_FIELDS = ("date", "instrument", "rating")
_FILE_NAMES = {"_f": pl.UInt32, "file": pl.String}
# What to say about a file saved in a format that cannot be read.
_OTHER_FORMATS = {
    ".zip": "är en zip-fil. Packa upp den i omgångsmappen; exporterna i den läses då",
    ".numbers": "är sparad i Numbers (Mac). Exportera den från Numbers till Excel (.xlsx)",
    ".xml": 'är sparad som "XML-kalkylblad". Spara den i Excel som .xlsx',
}


# --------------------------------------------------------------------------- tokens


def split_multi_tokens(cell: pl.Expr) -> pl.Expr:
    """A list-layout multi-choice cell → List(String) of its stripped tokens, split on
    ``;`` and ``,`` except inside known option labels that contain a comma (matched like
    ``normalise`` compares); null stays null, a cell without tokens gives ``[]``."""
    for pattern, replacement in codebook_index().protections:
        cell = cell.str.replace_all(pattern, replacement)
    return (
        cell.str.replace_all(";", ",", literal=True)
        .str.split(",")
        .list.eval(pl.element().str.strip_chars().str.replace_all(PLACEHOLDER, ",", literal=True))
        .list.eval(pl.element().filter(pl.element() != ""))
    )


def _relative_name(path: Path) -> str:
    """``<round>/<path inside the round folder>``, as the unit and the quality pages name it."""
    folder = round_folder_of(path)
    if folder is not None:
        return path.relative_to(folder.parent).as_posix()
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


@cache
def _chosen_sets() -> tuple[list[str], list[str]]:
    """The codebook's chosen and not-chosen marks, compared lower case; a numeric mark
    also as a database extract writes it (``1.0``, ``1,0``)."""
    cb = cbm.load()

    def with_decimals(values: tuple[str, ...]) -> list[str]:
        marks = {normalise(v) for v in values} - {""}
        return sorted(marks | {f"{m}{sep}0" for m in marks if m.isdigit() for sep in ".,"})

    return with_decimals(cb.chosen_values), with_decimals(cb.not_chosen_values)


# --------------------------------------------------------------------------- reading


@dataclass
class FileLayout:
    """One export read and its header recognised: everything ingest knows of the file
    before its data rows join the batch's (:func:`pool_files`). ``cells``: the data rows
    (``row``, ``extra_fields``, ``comments`` and one text column per recognised column,
    named by its key: the variable, personal or risk target, ``<variable>:<code>`` for
    an option column), stripped, empty rows left out."""

    shown: str
    round: str
    grid: Grid
    header_row: int
    columns: Columns
    cells: pl.DataFrame
    keys: dict[str, int]  # column key -> column index in the file
    local_variables: list[dict[str, Any]]
    local_names: dict[int, str]


def ingest_file(
    path: str | Path, round_date: date | str, key: bytes, known: KnownUnits | None = None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Read one raw export: the raw frame (docs/stages.md "ingest") and its metadata.
    ``known``: the unit texts the run knows (register, districts, aliases), to tell a
    unit from what a person typed into Kommun/stadsdel (2); default the register.

    Raises IngestError (Swedish message naming the file, the problem and what to do)
    when the file cannot be read; the caller decides whether that stops the run.
    """
    layout = read_layout(path, round_date)
    raw, metas, issues = pool_files([layout], key, known)
    metas[0]["issues"] = issue_dicts(issues)
    return raw.drop("_f"), metas[0]


@cache
def _register_units() -> KnownUnits:
    return KnownUnits.of()


def read_layout(path: str | Path, round_date: date | str) -> FileLayout:
    """Read one export and recognise its header (raises IngestError naming the file)."""
    path = Path(path)
    shown = _relative_name(path)
    round_text = round_date.isoformat() if isinstance(round_date, date) else str(round_date)
    try:
        return _layout(_grid(path, shown), shown, round_text)
    except IngestError as error:
        error.file = shown
        raise


def _grid(path: Path, shown: str) -> Grid:
    suffix = path.suffix.lower()
    if suffix not in EXPORT_EXTENSIONS:
        what = _OTHER_FORMATS.get(suffix, f"har filändelsen {path.suffix or '(ingen)'}, som inte kan läsas")
        advice = "" if suffix in _OTHER_FORMATS else " Skicka exporten som .xlsx eller .csv."
        raise IngestError(f"Filen {shown} {what}.{advice}")
    if not path.is_file():
        raise IngestError(f"Filen {shown} finns inte eller är ingen fil.")
    if path.stat().st_size == 0:
        raise IngestError(f"Filen {shown} är tom (0 byte). Exportera på nytt från SUreg och skicka filen igen.")
    return workbook_grid(path, shown) if suffix in WORKBOOK_EXTENSIONS else csv_grid(path, shown)


# --------------------------------------------------------------------------- header


def _header(grid: Grid, shown: str) -> tuple[int, Columns]:
    """(header row, the columns); refuses a file without a header row or without the
    key columns Klient (4) and Datum för aktualisering (5), naming the sheet."""
    cb = cbm.load()
    top = grid.frame.head(HEADER_SEARCH_ROWS)
    candidates = [(r[-1], list(r[:-1])) for r in top.select(*grid.cell_columns, "row").rows()]
    found = find_header(candidates)
    if found is None:
        raise IngestError(
            f"Filen {shown}{grid.where()}: ingen rubrikrad hittades bland de första {HEADER_SEARCH_ROWS} raderna "
            f"(ingen cell är en känd variabel, t.ex. Klient (4) eller Datum för aktualisering (5)). "
            f"Kontrollera att filen är en export från SU-Kvinnofrid med kolumnrubrikerna kvar."
        )
    header_row, header_cells = candidates[found[0]]
    headers = [clean_header(c) for c in header_cells]
    columns = Columns(headers, resolve_roles(headers))
    missing = [v for v in ("client", "opened") if not columns.of(v)]
    if missing:
        names = " och ".join(f"{cb[v].label} ({cb[v].suv})" for v in missing)
        near = [
            f'"{columns.headers[i]}" (kolumn {grid.ref(i)})'
            for i, r in enumerate(columns.roles)
            if r.resembles in missing
        ]
        seen = f" Kolumnen {', '.join(near)} liknar den men kunde inte läsas som den." if near else ""
        raise IngestError(
            f"Filen {shown}{grid.where()} saknar kolumnen {names}, som behövs för att identifiera ärendena "
            f"(rubrikraden är rad {header_row}).{seen}{grid.others()} Exportera på nytt från SUreg med alla "
            f"kolumner, eller rätta kolumnrubriken."
        )
    return header_row, columns


def _refuse_named_twice(grid: Grid, shown: str, header_row: int, columns: Columns) -> None:
    """The same variable (or option, or risk field) named by two columns: a located error."""
    cb = cbm.load()
    seen: dict[tuple[str, ...], int] = {}
    for i, r in enumerate(columns.roles):
        if r.key is None:
            continue
        if r.key in seen:
            first = seen[r.key]
            var = cb[r.variable] if r.variable else None
            what = f"{var.label} ({var.suv})" if var else r.target
            if r.role == "option":
                what += f", svarsalternativ {r.code}"
            raise IngestError(
                f'Filen {shown}{grid.where()}: kolumnerna "{columns.headers[first]}" (kolumn {grid.ref(first)}) och '
                f'"{columns.headers[i]}" (kolumn {grid.ref(i)}) på rubrikrad {header_row} anger båda variabeln '
                f"{what}. Ta bort eller byt namn på den ena kolumnen."
            )
        seen[r.key] = i


def _header_issues(columns: Columns, local_names: dict[int, str], shown: str) -> list[dict[str, Any]]:
    """``column_label_differs`` (info: read by its number; value: the label expected),
    ``column_not_recognised`` (warning: points at a variable the file lacks; value: that
    variable) and ``local_variable`` (info), one per column, before the row issues."""
    cb = cbm.load()
    present = {r.variable for r in columns.roles if r.variable is not None and r.role != "local"}
    issues = []
    for i, role in enumerate(columns.roles):
        rule = None
        if role.by_number and role.variable is not None:
            rule, variable = "column_label_differs", role.variable
        elif role.resembles is not None and role.resembles not in present and i in local_names:
            rule, variable = "column_not_recognised", role.resembles
        elif i in local_names:
            rule, variable = "local_variable", None
        if rule is None:
            continue
        expected = f"{cb[variable].label} ({cb[variable].suv})" if variable else None
        column = local_names.get(i, columns.headers[i])
        issues.append(_issue(shown, None, column, variable, rule, expected, i - 10**6))
    return issues


def _issue(
    shown: str, row: int | None, column: str | None, variable: str | None, rule: str, value: str | None, order: int
) -> dict[str, Any]:
    return {
        "file": shown,
        "row": row,
        "column": column,
        "variable": variable,
        "rule": rule,
        "value": value,
        "_col": order,
    }


# --------------------------------------------------------------------------- one file

POOL_COLUMNS = ("_f", "_n", "row", "extra_fields", "comments")


def column_key(role: ColumnRole) -> str | None:
    """The name of a recognised column in the pooled frame: the variable, personal or
    risk target, ``<variable>:<code>`` for an option column; None when not pooled."""
    if role.role == "option":
        return f"{role.variable}:{role.code}"
    return role.target if role.role in ("variable", "risk", "personal") else None


def _layout(grid: Grid, shown: str, round_text: str) -> FileLayout:
    """The file's header and its data rows, stripped (once for the whole file: the rows
    and the local columns' counts are then selected from them)."""
    cell_columns = grid.cell_columns
    if grid.frame.height == 0 or not cell_columns:
        raise IngestError(f"Filen {shown}{grid.where()} är tom. Exportera på nytt från SUreg och skicka filen igen.")
    header_row, columns = _header(grid, shown)
    _refuse_named_twice(grid, shown, header_row, columns)
    # every cell stripped and its null tokens made empty, once: later steps read the cells as they are
    data = (
        grid.frame.lazy()
        .filter(pl.col("row") > header_row)
        .with_columns(stripped(*cell_columns))
        .filter(pl.any_horizontal([pl.col(c).is_not_null() for c in cell_columns]))
        .with_columns(_extra_fields(grid, columns).alias("extra_fields"))
        .collect()
    )
    keys = {key: i for i, role in enumerate(columns.roles) if (key := column_key(role)) is not None}
    local_idx = [i for i, r in enumerate(columns.roles) if r.role in ("local", "blank")]
    width = header_width(columns)
    # a local column's filled cells; a shifted record's cells are not where their header says
    filled = data.select(
        pl.lit(0).alias("_"),
        *[
            (pl.col(cell_name(i)).is_not_null() & ~pl.col("extra_fields")).sum().alias(cell_name(i))
            for i in local_idx
            if i < width
        ],
    )
    cells = data.select(
        pl.col("row").cast(pl.Int32),
        "extra_fields",
        _comments(columns),
        *[pl.col(cell_name(i)).alias(key) for key, i in keys.items()],
    )
    if cells.height == 0:
        raise IngestError(
            f"Filen {shown}{grid.where()} har en rubrikrad (rad {header_row}) men inga ärenden under den. "
            f"Kontrollera urvalet i SUreg (period och enhet) och exportera på nytt."
        )
    counts = filled.row(0, named=True)
    local_variables, local_names = _local_variables(
        {i: int(counts.get(cell_name(i), 0)) for i in local_idx}, columns, grid
    )
    return FileLayout(shown, round_text, grid, header_row, columns, cells, keys, local_variables, local_names)


def _extra_fields(grid: Grid, columns: Columns) -> pl.Expr:
    """A CSV record with a value beyond the header's last named column (screening.py)."""
    beyond = [cell_name(i) for i in range(header_width(columns), len(columns.headers))]
    if grid.format != "csv" or not beyond:
        return pl.lit(False)
    return pl.any_horizontal([pl.col(c).is_not_null() for c in beyond])


def _comments(columns: Columns) -> pl.Expr:
    """``comments``: non-empty comment cells per row (none on a shifted record): a count
    only, the text never leaves ingest."""
    comment_cols = [cell_name(i) for i, r in enumerate(columns.roles) if r.role == "comment"]
    if not comment_cols:
        return pl.lit(0, pl.Int16).alias("comments")
    filled = [(pl.col(c).is_not_null() & ~pl.col("extra_fields")).cast(pl.Int16) for c in comment_cols]
    return pl.sum_horizontal(filled).cast(pl.Int16).alias("comments")


def _local_variables(
    filled: dict[int, int], columns: Columns, grid: Grid
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Local variables: (name and how many rows fill it, never its values; {column
    index: name}). A column without header counts only when it holds something."""
    local_variables: list[dict[str, Any]] = []
    local_names: dict[int, str] = {}
    for i, n in filled.items():
        if columns.roles[i].role == "blank" and n == 0:
            continue
        name = columns.headers[i] or f"(kolumn {grid.ref(i)} utan rubrik)"
        if looks_like_personal_number(name):
            name = f"(kolumn {grid.ref(i)}: rubriken ser ut som ett personnummer)"
        local_names[i] = name
        local_variables.append({"name": name, "filled": int(n)})
    return local_variables, local_names


# --------------------------------------------------------------------------- the files pooled


def pool_files(
    layouts: Sequence[FileLayout], key: bytes, known: KnownUnits | None = None
) -> tuple[pl.DataFrame, list[dict[str, Any]], pl.DataFrame]:
    """The raw frame of every file at once (docs/stages.md "ingest", plus ``_f``: the
    file's position in ``layouts``), each file's metadata (without issues) and the
    ingest issues (``ISSUE_SCHEMA`` plus ``_f``, in each file's order). Every rule runs
    once over the pooled rows, however many files: screening, unit texts, the
    variables, the pseudonyms (one keyed hash per distinct identifier)."""
    if not layouts:
        return empty_raw_frame().with_columns(pl.lit(0, pl.UInt32).alias("_f")), [], _pooled_issue_frame([])
    frame = pl.concat(
        [layout.cells.with_columns(pl.lit(f, pl.UInt32).alias("_f")) for f, layout in enumerate(layouts)],
        how="diagonal",
    ).with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_n"))
    keys = _pooled_keys(frame, layouts)
    frame, screened = screen_cells(frame, keys, {v.name for v in cbm.load().personal})
    frame = screen_unit_texts(frame, known or _register_units())
    frame, unknown = _option_marks(frame, keys)
    frame = _multi_lists(frame, keys)
    raw = frame.select(
        "_f",
        pl.col("row").cast(pl.Int32),
        _first(keys, "client", "client_key"),
        _first(keys, "handler", "handler_key"),
        *[_variable(frame.columns, v) for v in cbm.load().national],
        *_risk_exprs(keys),
        pl.col("comments").cast(pl.Int16),
        _first(keys, "survey_suggestions", "has_suggestion").is_not_null(),
        "extra_fields",
        "unit_text",
    )
    raw = raw.with_columns(
        pseudonymise(raw.get_column("client_key"), key), pseudonymise(raw.get_column("handler_key"), key)
    )
    facts = _file_facts(raw)
    metas = [_metadata(layout, *facts.get(f, (0, None, None))) for f, layout in enumerate(layouts)]
    return raw, metas, _ingest_issues(layouts, screened, unknown)


def _pooled_keys(frame: pl.DataFrame, layouts: Sequence[FileLayout]) -> list[str]:
    """The pooled columns' keys: in the first file's column order, then the others'."""
    order: dict[str, int] = {}
    for layout in layouts:
        for key in sorted(layout.keys, key=layout.keys.__getitem__):
            order.setdefault(key, len(order))
    return sorted((c for c in frame.columns if c not in POOL_COLUMNS), key=order.__getitem__)


def _first(keys: Sequence[str], key: str, out: str) -> pl.Expr:
    return (pl.col(key) if key in keys else pl.lit(None, pl.String)).alias(out)


def _variable(columns: Sequence[str], v: cbm.Variable) -> pl.Expr:
    """A national variable's text (a multi-choice variable: its list of tokens), null
    when the file has no column for it."""
    if v.kind != "multi":
        return _first(columns, v.name, v.name)
    name = f"_{v.name}_list"
    return (pl.col(name) if name in columns else pl.lit(None, pl.List(pl.String))).alias(v.name)


def _option_marks(frame: pl.DataFrame, keys: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the frame with ``_mark:<key>`` per option column: 1 chosen, 0 not chosen, -1
    neither, null empty; the cells that are neither: ``_f``, ``row``, ``key``,
    ``value``). Each distinct mark is read once."""
    schema = {"_f": pl.UInt32, "row": pl.Int32, "key": pl.String, "value": pl.String}
    options = [k for k in keys if ":" in k]
    if not options:
        return frame, pl.DataFrame(schema=schema)
    chosen, not_chosen = _chosen_sets()

    def mark(cell: pl.Expr) -> pl.Expr:
        low = cell.str.to_lowercase()
        return pl.when(low.is_in(chosen)).then(1).when(low.is_in(not_chosen)).then(0).otherwise(-1)

    frame = per_distinct_columns(frame, {key: f"_mark:{key}" for key in options}, mark, pl.Int8)
    neither = [pl.when(pl.col(f"_mark:{key}") == -1).then(pl.col(key)).alias(key) for key in options]
    found = frame.select("_f", "row", *neither).filter(pl.any_horizontal(pl.col(k).is_not_null() for k in options))
    unknown = found.unpivot(index=["_f", "row"], variable_name="key", value_name="value").drop_nulls("value")
    return frame, unknown.cast(schema)


def _multi_lists(frame: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """``_<variable>_list`` per multi-choice variable with a column: List(String) of the
    tokens of its list column and the codes of its chosen option columns (null when
    none), computed once per distinct combination of list text and chosen options."""
    for v in cbm.load().of_kind("multi"):
        options = [k for k in keys if k.startswith(f"{v.name}:")]
        if v.name not in keys and not options:
            continue
        chosen = [
            (pl.col(f"_mark:{key}") == 1).fill_null(False).cast(pl.Int64) * (1 << j) for j, key in enumerate(options)
        ]
        frame = frame.with_columns(
            (pl.col(v.name) if v.name in keys else pl.lit(None, pl.String)).alias("_text"),
            (pl.sum_horizontal(chosen) if chosen else pl.lit(0, pl.Int64)).alias("_chosen"),
        )
        codes = [key.split(":", 1)[1] for key in options]
        frame = per_distinct_rows(
            frame, ["_text", "_chosen"], [_multi_expr(v.name in keys, codes).alias(f"_{v.name}_list")]
        )
    return frame.drop("_text", "_chosen", strict=False)


def _multi_expr(has_list: bool, codes: list[str]) -> pl.Expr:
    """Over ``_text`` (the list column's text) and ``_chosen`` (bit j: option j chosen):
    the tokens, then the chosen codes, each once; null when there are none."""
    parts: list[pl.Expr] = []
    if has_list:
        parts.append(split_multi_tokens(pl.col("_text")).fill_null(pl.lit([], dtype=pl.List(pl.String))))
    if codes:
        bits = [pl.when((pl.col("_chosen") & (1 << j)) != 0).then(pl.lit(code)) for j, code in enumerate(codes)]
        parts.append(pl.concat_list(bits).list.drop_nulls())
    merged = pl.concat_list(parts).list.unique(maintain_order=True)
    return pl.when(merged.list.len() > 0).then(merged).otherwise(None)


def _risk_exprs(keys: Sequence[str]) -> list[pl.Expr]:
    """risk_<k>_date|instrument|rating for every group k a header has."""
    risk_ks = sorted({int(k.split("_")[1]) for k in keys if re.fullmatch(r"risk_\d+_\w+", k)})
    return [_first(keys, f"risk_{k}_{field}", f"risk_{k}_{field}") for k in risk_ks for field in RISK_FIELDS]


# --------------------------------------------------------------------------- issues and metadata


def _ingest_issues(layouts: Sequence[FileLayout], screened: pl.DataFrame, unknown: pl.DataFrame) -> pl.DataFrame:
    """The ingest issues of every file, in each file's order: by row (file-level notes and
    column issues first), then by column."""
    rows: list[dict[str, Any]] = []
    for f, layout in enumerate(layouts):
        notes = [_issue(layout.shown, None, None, None, n["rule"], n["value"], -(10**7)) for n in layout.grid.notes]
        for issue in notes + _header_issues(layout.columns, layout.local_names, layout.shown):
            rows.append(issue | {"_f": f, "_seq": len(rows)})
    places = _places(layouts)
    cells = pl.concat(
        [
            screened.select("_f", "row", "key", "rule", pl.lit(None, pl.String).alias("value")),
            unknown.select(
                "_f",
                "row",
                "key",
                pl.lit("unknown_value").alias("rule"),
                shown_value_expr(pl.col("value")).alias("value"),
            ),
        ]
    )
    cells = cells.join(places, on=["_f", "key"], how="left").select(
        "_f", "row", "column", "variable", "rule", "value", pl.col("i").cast(pl.Int64).alias("_col")
    )
    issues = pl.concat([_pooled_issue_frame(rows), cells.with_columns(pl.lit(0, pl.Int64).alias("_seq"))])
    issues = issues.sort("_f", pl.col("row").fill_null(-1), "_col", "_seq", maintain_order=True)
    names = pl.DataFrame({"_f": range(len(layouts)), "file": [x.shown for x in layouts]}, schema=_FILE_NAMES)
    return issues.join(names, on="_f", how="left", maintain_order="left").select("_f", *ISSUE_SCHEMA.names())


def _pooled_issue_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "_f": pl.UInt32,
        "row": pl.Int32,
        "column": pl.String,
        "variable": pl.String,
        "rule": pl.String,
        "value": pl.String,
        "_col": pl.Int64,
        "_seq": pl.Int64,
    }
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def _places(layouts: Sequence[FileLayout]) -> pl.DataFrame:
    """``_f``, ``key``: where each pooled column is in its file (``i``), its header and variable."""
    rows = [
        (f, key, i, layout.columns.headers[i], layout.columns.roles[i].variable)
        for f, layout in enumerate(layouts)
        for key, i in layout.keys.items()
    ]
    schema = {"_f": pl.UInt32, "key": pl.String, "i": pl.Int64, "column": pl.String, "variable": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def issue_dicts(issues: pl.DataFrame) -> list[dict[str, Any]]:
    """A file's ingest issues as the metadata lists them (``ISSUE_SCHEMA`` keys)."""
    return issues.select(ISSUE_SCHEMA.names()).to_dicts()


def _file_facts(raw: pl.DataFrame) -> dict[int, tuple[int, Any, int | None]]:
    """{file: (rows read, most common Kommun/stadsdel text, most common Verksamhet code)}:
    the most common value, ties to the smallest."""
    rows = dict(raw.group_by("_f").len().iter_rows())
    texts = (
        raw.drop_nulls("municipality")
        .group_by("_f", "municipality")
        .len("n")
        .sort("_f", "n", "municipality", descending=[False, True, False])
        .group_by("_f", maintain_order=True)
        .first()
    )
    municipality = dict(texts.select("_f", "municipality").iter_rows())
    service_type = cbm.load()["service_type"]
    codes = raw.drop_nulls("service_type").group_by("_f", "service_type").len("n")
    code_of = {t: option_code(service_type, t) for t in codes.get_column("service_type").unique().to_list()}
    counts = (
        codes.with_columns(pl.col("service_type").replace_strict(code_of, default=None, return_dtype=pl.Int64))
        .drop_nulls("service_type")
        .group_by("_f", "service_type")
        .agg(pl.col("n").sum())
        .sort("_f", "n", "service_type", descending=[False, True, False])
        .group_by("_f", maintain_order=True)
        .first()
    )
    service = dict(counts.select("_f", "service_type").iter_rows())
    return {f: (n, municipality.get(f), service.get(f)) for f, n in rows.items()}


def _metadata(layout: FileLayout, rows: int, municipality: Any, service_type: int | None) -> dict[str, Any]:
    grid = layout.grid
    return {
        "file": layout.shown,
        "round": layout.round,
        "format": grid.format,
        "sheet": grid.sheet,
        "sheet_hidden": grid.sheet_hidden,
        "header_row": layout.header_row,
        "encoding": grid.encoding,
        "delimiter": grid.delimiter,
        "rows_read": rows,
        "municipality": municipality,
        "service_type": service_type,
        "columns": _columns_meta(layout.columns, layout.local_names),
        "variable_columns": _variable_columns(layout.columns),
        "local_variables": layout.local_variables,
    }


def _variable_columns(columns: Columns) -> dict[str, str]:
    """{variable: header of its column}: a multi-choice variable's list column only."""
    variable_columns: dict[str, str] = {}
    for v in cbm.load().national:
        where = columns.of(v.name)
        if v.kind == "multi":
            for i in where:
                if columns.roles[i].role == "variable":
                    variable_columns[v.name] = columns.headers[i]
        elif where:
            variable_columns[v.name] = columns.headers[where[0]]
    return variable_columns


def _columns_meta(columns: Columns, local_names: dict[int, str]) -> dict[str, str]:
    """{header: what it is} (variable or risk target, personal, comment, local)."""
    columns_meta: dict[str, str] = {}
    for i, (h, r) in enumerate(zip(columns.headers, columns.roles)):
        if r.role == "blank" or i in local_names:
            if i in local_names:
                columns_meta[local_names[i]] = "local"
            continue
        columns_meta[h] = {"personal": "personal", "comment": "comment", "local": "local"}.get(r.role, r.target or "")
    return columns_meta


# ----------------------------------------------------------------- entry points


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
    columns |= {
        "comments": pl.Int16(),
        "has_suggestion": pl.Boolean(),
        "extra_fields": pl.Boolean(),
        "unit_text": pl.String(),
    }
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
    path: str | Path,
    key: bytes,
    on_unreadable: str = "fail",
    round_date: date | str | None = None,
    known: KnownUnits | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``ingest_file`` with the round from the file's folder; a file that cannot be read
    raises IngestError, or with ``on_unreadable == "skip"`` gives an empty frame and
    ``unreadable_metadata`` (the problem logged once)."""
    path = Path(path)
    round_date = round_date if round_date is not None else _round_of(path)
    try:
        return ingest_file(path, round_date, key, known)
    except IngestError as problem:
        if on_unreadable != "skip":
            raise
        log.warning("%s", problem)
        return empty_raw_frame(), unreadable_metadata(path, round_date, problem)
