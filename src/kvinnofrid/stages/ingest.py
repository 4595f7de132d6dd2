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
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from kvinnofrid.spec import codebook as cbm
from kvinnofrid.spec.codebook import normalise
from kvinnofrid.spec.municipalities import KnownUnits
from kvinnofrid.stages.csv_reader import TEXT_EXTENSIONS, csv_grid
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
from kvinnofrid.stages.redaction import looks_like_personal_number, shown_value
from kvinnofrid.stages.screening import (
    Columns,
    most_common,
    screen_cells,
    screen_issues,
    screen_unit_texts,
    stripped,
)
from kvinnofrid.stages.xlsx import CALAMINE_EXTENSIONS, OOXML_EXTENSIONS, workbook_grid

log = logging.getLogger(__name__)

__all__ = [
    "HEADER_SEARCH_ROWS",
    "ColumnRole",
    "IngestError",
    "classify_header",
    "ingest_file",
    "most_common",
    "read_export",
    "split_multi_tokens",
    "write_ingest",
]

WORKBOOK_EXTENSIONS = OOXML_EXTENSIONS + CALAMINE_EXTENSIONS
EXPORT_EXTENSIONS = WORKBOOK_EXTENSIONS + TEXT_EXTENSIONS
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


def ingest_file(
    path: str | Path, round_date: date | str, key: bytes, known: KnownUnits | None = None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Read one raw export: the raw frame (docs/stages.md "ingest") and its metadata.
    ``known``: the unit texts the run knows (register, districts, aliases), to tell a
    unit from what a person typed into Kommun/stadsdel (2); default the register.

    Raises IngestError (Swedish message naming the file, the problem and what to do)
    when the file cannot be read; the caller decides whether that stops the run.
    """
    path = Path(path)
    shown = _relative_name(path)
    try:
        return _ingest(path, shown, round_date, key, known or _register_units())
    except IngestError as error:
        error.file = shown
        raise


@cache
def _register_units() -> KnownUnits:
    return KnownUnits.of()


def _ingest(
    path: Path, shown: str, round_date: date | str, key: bytes, known: KnownUnits
) -> tuple[pl.DataFrame, dict[str, Any]]:
    round_text = round_date.isoformat() if isinstance(round_date, date) else str(round_date)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_EXTENSIONS:
        what = _OTHER_FORMATS.get(suffix, f"har filändelsen {path.suffix or '(ingen)'}, som inte kan läsas")
        advice = "" if suffix in _OTHER_FORMATS else " Skicka exporten som .xlsx eller .csv."
        raise IngestError(f"Filen {shown} {what}.{advice}")
    if not path.is_file():
        raise IngestError(f"Filen {shown} finns inte eller är ingen fil.")
    if path.stat().st_size == 0:
        raise IngestError(f"Filen {shown} är tom (0 byte). Exportera på nytt från SUreg och skicka filen igen.")
    grid = workbook_grid(path, shown) if suffix in WORKBOOK_EXTENSIONS else csv_grid(path, shown)
    return _build(grid, shown, round_text, key, known)


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


# --------------------------------------------------------------------------- building


def _build(grid: Grid, shown: str, round_text: str, key: bytes, known: KnownUnits) -> tuple[pl.DataFrame, dict]:
    cell_columns = grid.cell_columns
    if grid.frame.height == 0 or not cell_columns:
        raise IngestError(f"Filen {shown}{grid.where()} är tom. Exportera på nytt från SUreg och skicka filen igen.")
    header_row, columns = _header(grid, shown)
    _refuse_named_twice(grid, shown, header_row, columns)
    # every cell stripped and its null tokens made empty, once: later steps read the cells as they are
    data = grid.frame.filter(pl.col("row") > header_row).with_columns(stripped(c) for c in cell_columns)
    data = data.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in cell_columns]))
    if data.height == 0:
        raise IngestError(
            f"Filen {shown}{grid.where()} har en rubrikrad (rad {header_row}) men inga ärenden under den. "
            f"Kontrollera urvalet i SUreg (period och enhet) och exportera på nytt."
        )
    data, screened = screen_cells(data, columns, grid)
    data = screen_unit_texts(data, columns, known)

    variable_exprs, variable_columns, unknown_marks = _variable_exprs(columns)
    exprs = [
        pl.col("row").cast(pl.Int32),
        *_key_exprs(columns),
        *variable_exprs,
        *_risk_exprs(columns),
        *_comment_exprs(columns),
        pl.col("_extra_fields").alias("extra_fields"),
        pl.col("unit_text"),
    ]
    local_variables, local_names = _local_variables(data, columns, grid)
    issues = [_issue(shown, None, None, None, note["rule"], note["value"], -(10**7)) for note in grid.notes]
    issues += _header_issues(columns, local_names, shown)
    issues += screen_issues(screened, columns, shown) + _unknown_mark_issues(data, unknown_marks, columns, shown)
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
        "sheet_hidden": grid.sheet_hidden,
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


def _key_exprs(columns: Columns) -> list[pl.Expr]:
    """Klient and Handläggare in clear text; replaced by pseudonyms after the selection
    (the keyed hash needs Python)."""
    return [columns.first("client", "client_key"), columns.first("handler", "handler_key")]


def _variable_exprs(columns: Columns) -> tuple[list[pl.Expr], dict[str, str], list[pl.Expr]]:
    """(one expression per national variable, {variable: header of its column},
    per option column the cell when it is no known chosen/not-chosen mark)."""
    variable_columns: dict[str, str] = {}
    exprs: list[pl.Expr] = []
    unknown_marks: list[pl.Expr] = []
    for v in cbm.load().national:
        where = columns.of(v.name)
        if v.kind == "multi":
            for i in where:
                if columns.roles[i].role == "variable":
                    variable_columns[v.name] = columns.headers[i]
            expr, marks = _multi_expr_of(v.name, tuple((i, columns.roles[i]) for i in where))
            exprs.append(expr)
            unknown_marks += marks
            continue
        if where:
            variable_columns[v.name] = columns.headers[where[0]]
        exprs.append(columns.first(v.name, v.name))
    return exprs, variable_columns, unknown_marks


@lru_cache(maxsize=4096)
def _multi_expr_of(name: str, layout: tuple[tuple[int, ColumnRole], ...]) -> tuple[pl.Expr, tuple[pl.Expr, ...]]:
    """A multi-choice variable as List(String) of tokens from its list column and its
    one-column-per-option columns (null when none chosen), and the unknown-mark
    expressions of its option columns. Built once per layout, not once per file
    (building the expressions cost more than running them on a small export)."""
    chosen, not_chosen = _chosen_sets()
    parts: list[pl.Expr] = []
    option_marks: list[pl.Expr] = []
    unknown_marks: list[pl.Expr] = []
    for i, role in layout:
        cell = pl.col(cell_name(i))
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
    data: pl.DataFrame, unknown_marks: list[pl.Expr], columns: Columns, shown: str
) -> list[dict[str, Any]]:
    """unknown_value: an option-column cell that is neither a chosen nor a not-chosen
    mark (one pass over the data for every option column)."""
    if not unknown_marks:
        return []
    marks = data.select("row", *unknown_marks).unpivot(index="row", variable_name="i", value_name="value")
    return [
        _issue(
            shown,
            row,
            columns.headers[int(i)],
            columns.roles[int(i)].variable,
            "unknown_value",
            shown_value(value),
            int(i),
        )
        for row, i, value in marks.drop_nulls("value").iter_rows()
    ]


def _risk_exprs(columns: Columns) -> list[pl.Expr]:
    """risk_<k>_date|instrument|rating for every group k the header has."""
    risk_ks = sorted({int(r.target.split("_")[1]) for r in columns.roles if r.role == "risk" and r.target})
    return [
        columns.first(f"risk_{k}_{field}", f"risk_{k}_{field}")
        for k in risk_ks
        for field in ("date", "instrument", "rating")
    ]


def _comment_exprs(columns: Columns) -> list[pl.Expr]:
    """``comments`` (non-empty comment cells per row) and ``has_suggestion``: counts
    only, the text never leaves ingest."""
    comment_cols = [cell_name(i) for i, r in enumerate(columns.roles) if r.role == "comment"]
    if comment_cols:
        comments = pl.sum_horizontal([pl.col(c).is_not_null().cast(pl.Int16) for c in comment_cols]).cast(pl.Int16)
    else:
        comments = pl.lit(0, pl.Int16)
    where = columns.of("survey_suggestions")
    suggestion = pl.col(cell_name(where[0])).is_not_null() if where else pl.lit(False)
    return [comments.alias("comments"), suggestion.alias("has_suggestion")]


def _local_variables(data: pl.DataFrame, columns: Columns, grid: Grid) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Local variables: (name and how many rows fill it, never its values; {column
    index: name}). A column without header counts only when it holds something."""
    local_idx = [i for i, r in enumerate(columns.roles) if r.role in ("local", "blank")]
    filled = (
        data.select([pl.col(cell_name(i)).is_not_null().sum().alias(cell_name(i)) for i in local_idx]).row(0)
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


def _most_common_service_type(values: pl.Series) -> int | None:
    """The most common Verksamhet (1) code of the file's rows (ties: the lowest)."""
    service_type = cbm.load()["service_type"]
    service_counts: dict[int, int] = {}
    for text, n in values.drop_nulls().value_counts(name="n").iter_rows():
        code = option_code(service_type, text)
        if code is not None:
            service_counts[code] = service_counts.get(code, 0) + n
    return min(service_counts, key=lambda c: (-service_counts[c], c)) if service_counts else None


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
