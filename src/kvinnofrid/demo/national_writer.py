"""Write a national demo set fast: the export writer's habits, vectorised.

``export_writer`` renders every cell with its own Python callable and hash-seeded
generator: about 1.5 ms per row, so a million cases in two rounds would take most of
an hour of CPU. This writer keeps its unit habits (:func:`export_writer.assign_formats`,
so the coverage profiles give every variant of the contract), its headers
(``export_writer.export_columns``) and its defect kinds, but builds every column as one polars
expression per file, writes CSV with polars and xlsx with xlsxwriter's
``constant_memory`` mode, and spreads the files over worker processes.

Per-cell draws (a date's style in a "mixed" file, an age's spelling, a comment) come
from a counter-based hash of (seed, case number, column), so a case keeps its spelling
from round to round, and the same seed gives the same bytes.

Defects never change what the pipeline should compile, as in ``export_writer``: field
defects are written only where the canonical value is missing (the pipeline sets the
field missing), row defects are extra rows the pipeline quarantines or excludes.
The canonical cases of each unit's last round therefore are the compiled truth.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kvinnofrid.demo import export_writer as ew
from kvinnofrid.demo import national
from kvinnofrid.spec import codebook as cbm
from kvinnofrid.stages import derive
from kvinnofrid.statistics import tables

__all__ = ["NationalExportSettings", "plan_round", "uniform", "write_unit_file"]

EXCEL_EPOCH = dt.date(1899, 12, 30)
INVALID_DATES = ("2022-13-45", "5/3-22", "2023-02-30", "31.12.2022", "ej klart")
NOT_A_NUMBER = ("fyrtio", "okänd", "medelålders", "??")
ABOVE_110 = ("130", "150", "999", "111")
OUT_OF_RANGE = ("0", "11", "15", "-1")
BAD_OPENED = ("2022-02-30", "", "okänt")
DATE_STYLES_OF_MIXED = ("iso", "iso_datetime", "compact", "excel_cell", "excel_serial")
ROW_OFFSET = {k: (i + 1) * 10**10 for i, k in enumerate(ew.ROW_DEFECTS)}  # case_no of extra rows


@dataclass(frozen=True)
class NationalExportSettings:
    seed: int
    defect_rate: float = 0.005  # per eligible case and defect kind
    period_start: dt.date = dt.date(2022, 1, 1)


# --------------------------------------------------------------------------- hashing
_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def uniform(case_no: np.ndarray, seed: int, *salt: object) -> np.ndarray:
    """Uniform [0, 1) per case number for (seed, salt): splitmix64 of the number mixed
    with a hash of the salt; the same inputs always give the same draws."""
    key = np.uint64(ew.hash_int(seed, *salt) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        x = np.asarray(case_no).astype(np.uint64) * _GOLD ^ key
        x ^= x >> np.uint64(30)
        x *= _M1
        x ^= x >> np.uint64(27)
        x *= _M2
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


def _pick(values: tuple, u: np.ndarray) -> pl.Series:
    return pl.Series(
        np.array(values, dtype=object)[np.minimum((u * len(values)).astype(int), len(values) - 1)], dtype=pl.String
    )


# --------------------------------------------------------------------------- defect plan
def _chosen(eligible: np.ndarray, u: np.ndarray, rate: float) -> np.ndarray:
    """Eligible rows whose draw is under the rate; at least one when any is eligible."""
    chosen = eligible & (u < rate)
    if eligible.any() and not chosen.any():
        chosen[np.flatnonzero(eligible)[np.argmin(u[eligible])]] = True
    return chosen


def _unknown_values(var: cbm.Variable) -> tuple[str, ...]:
    import random

    return tuple(sorted({ew.unknown_label(var, random.Random(i)) for i in range(12)}))


def _field_plan(cases: pl.DataFrame, round_date: dt.date, s: NationalExportSettings) -> pl.DataFrame:
    """Per case the field defects: ``_dv_<name>`` (text written), ``_dd_closed`` (a
    closing date written in the file's style) and ``_dr_<name>`` (the rule). A field
    carries at most one, the first kind that claims it; only fields whose canonical
    value is missing."""
    cb = cbm.load()
    no = cases["case_no"].to_numpy()
    rules: dict[str, np.ndarray] = {}
    texts: dict[str, np.ndarray] = {}

    def claim(name: str, rule: str, rate: float, values: tuple | None = None) -> np.ndarray:
        old = rules.setdefault(name, np.full(no.size, None, dtype=object))
        free = cases[name].is_null().to_numpy() & (old == None)  # noqa: E711 (element-wise)
        chosen = _chosen(free, uniform(no, s.seed, "defect", rule, name), rate)
        old[chosen] = rule
        if values is not None:
            written = texts.setdefault(name, np.full(no.size, None, dtype=object))
            written[chosen] = _pick(values, uniform(no, s.seed, "value", rule, name)).to_numpy()[chosen]
        return chosen

    for var in cb.of_kind("single"):
        if var.name != "service_type":
            claim(var.name, "unknown_value", s.defect_rate / 3, _unknown_values(var))
    for name in ("closed", "support_started"):
        claim(name, "invalid_date", s.defect_rate / 2, INVALID_DATES)
    before = claim("closed", "closing_date_before_opening", s.defect_rate)
    after = claim("closed", "closing_date_after_submission", s.defect_rate)
    claim("age", "age_not_a_number", s.defect_rate, NOT_A_NUMBER)
    claim("age", "age_above_110", s.defect_rate, ABOVE_110)
    back = pl.Series(1 + (uniform(no, s.seed, "before") * 60).astype(int))
    ahead = pl.Series(1 + (uniform(no, s.seed, "after") * 90).astype(int))
    closed_date = (
        pl.when(pl.lit(pl.Series(before)))
        .then(pl.col("opened") - pl.duration(days=pl.lit(back)))
        .when(pl.lit(pl.Series(after)))
        .then(pl.lit(round_date) + pl.duration(days=pl.lit(ahead)))
        .otherwise(None)
        .alias("_dd_closed")
    )
    return cases.with_columns(
        closed_date,
        *[pl.Series(f"_dr_{k}", v.tolist(), dtype=pl.String) for k, v in rules.items()],
        *[pl.Series(f"_dv_{k}", v.tolist(), dtype=pl.String) for k, v in texts.items()],
    )


def _risk_wide(cases: pl.DataFrame, risk: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The risk assessments as columns risk_<k>_date/_instrument/_rating (k = position)."""
    key = ["unit", "client", "opened"]
    n_max = int(risk["position"].max() or 0) if risk.height else 0
    if n_max > 10:
        raise ValueError("a case has more than 10 risk assessments (the export has at most 10 groups)")
    for k in range(1, n_max + 1):
        part = risk.filter(pl.col("position") == k).select(
            *key,
            pl.col("date").alias(f"risk_{k}_date"),
            pl.col("instrument").alias(f"risk_{k}_instrument"),
            pl.col("rating").alias(f"risk_{k}_rating"),
        )
        cases = cases.join(part, on=key, how="left", maintain_order="left")
    return cases, n_max


def _risk_defects(cases: pl.DataFrame, n_risk: int, s: NationalExportSettings) -> pl.DataFrame:
    """risk_rating_out_of_range: only where an assessment has an instrument but no rating."""
    no = cases["case_no"].to_numpy()
    new = []
    for k in range(1, n_risk + 1):
        free = (cases[f"risk_{k}_instrument"].is_not_null() & cases[f"risk_{k}_rating"].is_null()).to_numpy()
        chosen = _chosen(free, uniform(no, s.seed, "defect", "risk", k), s.defect_rate)
        values = _pick(OUT_OF_RANGE, uniform(no, s.seed, "value", "risk", k)).to_numpy()
        new += [
            pl.Series(
                f"_dr_risk_{k}_rating", np.where(chosen, "risk_rating_out_of_range", None).tolist(), dtype=pl.String
            ),
            pl.Series(f"_dv_risk_{k}_rating", np.where(chosen, values, None).tolist(), dtype=pl.String),
        ]
    return cases.with_columns(new)


def _extra_rows(cases: pl.DataFrame, s: NationalExportSettings) -> pl.DataFrame:
    """The rejected rows, built from valid template cases (no risk, no field defects),
    with ``_rule`` and a file position ``_sort`` (a duplicate after its original)."""
    base = [c for c in cases.columns if not c.startswith(("_dr_", "_dv_", "_dd_", "risk_"))]
    no = cases["case_no"].to_numpy()
    parts = []
    for kind in ew.ROW_DEFECTS:
        chosen = _chosen(np.ones(no.size, bool), uniform(no, s.seed, "row", kind), s.defect_rate)
        t = cases.filter(pl.Series(chosen)).select(base)
        u = [pl.lit(pl.Series(uniform(t["case_no"].to_numpy(), s.seed, "extra", kind, j))) for j in range(3)]
        t = t.with_columns(_rule=pl.lit(kind), case_no=pl.col("case_no") + ROW_OFFSET[kind])
        parts.append(_EXTRA[kind](t, u, s).with_columns(_position(kind, u[2])))
    return pl.concat(parts, how="diagonal_relaxed")


def _position(kind: str, u: pl.Expr) -> pl.Expr:
    """Even sort keys go between the valid rows (2 i + 1): before row p is 2 p."""
    if kind == "duplicate_case_key":
        p = pl.col("_i") + 1 + (u * (pl.col("_n") - pl.col("_i"))).floor().cast(pl.Int64)
    else:
        p = (u * (pl.col("_n") + 1)).floor().cast(pl.Int64)
    return (2 * pl.min_horizontal(p, pl.col("_n"))).alias("_sort")


def _key_missing(t: pl.DataFrame, u: list[pl.Expr], s) -> pl.DataFrame:
    blank = u[0] < 0.7
    return t.with_columns(
        client=pl.when(blank)
        .then(pl.when(u[1] < 0.5).then(pl.lit("")).otherwise(pl.lit(" ")))
        .otherwise(pl.col("client")),
        _opened_text=pl.when(blank)
        .then(None)
        .otherwise(
            pl.when(u[1] < 1 / 3)
            .then(pl.lit(BAD_OPENED[0]))
            .when(u[1] < 2 / 3)
            .then(pl.lit(BAD_OPENED[1]))
            .otherwise(pl.lit(BAD_OPENED[2]))
        ),
    )


def _duplicate(t: pl.DataFrame, u: list[pl.Expr], s) -> pl.DataFrame:
    age = pl.col("age")
    return t.with_columns(
        age=pl.when(age.is_null()).then(40).when(age >= 100).then(age - 1).otherwise(age + 1).cast(pl.Int16),
        handler=pl.col("handler") + "2",
    )


def _under_18(t: pl.DataFrame, u: list[pl.Expr], s) -> pl.DataFrame:
    letter = pl.lit(pl.Series(list("ABCDEFGH"))).gather((u[0] * 8).floor().cast(pl.Int64))
    return t.with_columns(client=pl.col("client") + "-" + letter, age=(14 + (u[1] * 4).floor()).cast(pl.Int16))


def _before_period(t: pl.DataFrame, u: list[pl.Expr], s: NationalExportSettings) -> pl.DataFrame:
    opened = pl.lit(s.period_start) - pl.duration(days=15 + (u[0] * 61).floor().cast(pl.Int64))
    shift = opened - pl.col("opened")
    return t.with_columns([(pl.col(c) + shift).alias(c) for c in ("opened", "support_started", "closed")])


_EXTRA = {
    "case_key_missing": _key_missing,
    "duplicate_case_key": _duplicate,
    "age_under_18": _under_18,
    "opened_outside_period": _before_period,
}


def plan_round(cases: pl.DataFrame, risk: pl.DataFrame, round_date: dt.date, s: NationalExportSettings) -> pl.DataFrame:
    """A round's rows in file order per unit: the valid cases (with their risk columns
    and field defects, ``_rule`` null) and the rejected extra rows (``_rule`` set)."""
    cases = cases.sort("unit", "opened", "client").with_columns(
        _i=pl.int_range(pl.len(), dtype=pl.Int64).over("unit"), _n=pl.len().over("unit").cast(pl.Int64)
    )
    cases = _field_plan(cases, round_date, s)
    wide, n_risk = _risk_wide(cases, risk)
    wide = _risk_defects(wide, n_risk, s).with_columns(_sort=2 * pl.col("_i") + 1, _rule=pl.lit(None, pl.String))
    rows = pl.concat([wide, _extra_rows(cases, s)], how="diagonal_relaxed")
    return rows.sort("unit", "_sort", "case_no").drop("_i", "_n")


# --------------------------------------------------------------------------- cells
# A column is (header, text, number, is_date): per row the text is written if set, else
# the number (as a date cell when is_date); csv files have text only.
@dataclass
class _Cells:
    header: str
    text: pl.Expr
    number: pl.Expr | None = None
    is_date: pl.Expr | None = None
    variable: str | None = None


def _u(rows: pl.DataFrame, s: NationalExportSettings, *salt: object) -> pl.Expr:
    return pl.lit(pl.Series(uniform(rows["case_no"].to_numpy(), s.seed, "cell", *salt)))


def _date_cells(fmt: ew.UnitFormat, date: pl.Expr, u: pl.Expr) -> tuple[pl.Expr, pl.Expr | None, pl.Expr | None]:
    """A date in the file's style ("mixed": a style per cell)."""
    styles = {
        "iso": date.dt.strftime("%Y-%m-%d"),
        "iso_datetime": date.dt.strftime("%Y-%m-%d 00:00:00"),
        "compact": date.dt.strftime("%Y%m%d"),
    }
    serial = (date - pl.lit(EXCEL_EPOCH)).dt.total_days()
    if fmt.date_style in styles:
        return styles[fmt.date_style], None, None
    if fmt.date_style == "excel_cell":
        return pl.lit(None, pl.String), serial, pl.lit(True)
    if fmt.date_style == "excel_serial":
        return pl.lit(None, pl.String), serial, pl.lit(False)
    pick = (u * 5).floor()
    text = (
        pl.when(pick == 0)
        .then(styles["iso"])
        .when(pick == 1)
        .then(styles["iso_datetime"])
        .when(pick == 2)
        .then(styles["compact"])
        .otherwise(None)
    )
    return text, pl.when(pick >= 3).then(serial), pick == 3


def _date_column(fmt, name: str, rows: pl.DataFrame, s) -> tuple[pl.Expr, pl.Expr | None, pl.Expr | None]:
    date = pl.col(name)
    if f"_dd_{name}" in rows.columns:
        date = pl.coalesce(date, pl.col(f"_dd_{name}"))
    text, number, is_date = _date_cells(fmt, date, _u(rows, s, name))
    overrides = [c for c in (f"_dv_{name}", "_opened_text" if name == "opened" else None) if c in rows.columns]
    for c in overrides:  # an unreadable date is text; nothing else is written in the cell
        text = pl.when(pl.col(c).is_not_null()).then(pl.col(c)).otherwise(text)
        number = None if number is None else pl.when(pl.col(c).is_null()).then(number)
    return text, number, is_date


def _mapped(codes: pl.Expr, mapping: dict[int, str]) -> pl.Expr:
    return codes.replace_strict(list(mapping), list(mapping.values()), default=None, return_dtype=pl.String)


def _single_column(fmt, var: cbm.Variable, rows: pl.DataFrame) -> tuple[pl.Expr, pl.Expr | None]:
    defect = pl.col(f"_dv_{var.name}") if f"_dv_{var.name}" in rows.columns else pl.lit(None, pl.String)
    if fmt.value_style == "code" and fmt.container == "xlsx":
        return defect, pl.when(defect.is_null()).then(pl.col(var.name))
    mapping = {c: str(ew.single_value(var, c, fmt)) for c in var.codes}
    return pl.coalesce(defect, _mapped(pl.col(var.name), mapping)), None


def _age_column(fmt, rows: pl.DataFrame, s) -> tuple[pl.Expr, pl.Expr | None]:
    """Mostly a plain number; otherwise " 40 ", "40 år", "ca 40", "cirka 40", "40?" or a
    range whose midpoint is the age."""
    age, u = pl.col("age"), [_u(rows, s, "age", j) for j in range(5)]
    a = age.cast(pl.String)
    k = 1 + (u[3] * 3).floor().cast(pl.Int64)
    low, high = age.cast(pl.Int64) - k, age.cast(pl.Int64) + k + (u[4] * 2).floor().cast(pl.Int64)
    kind = (u[2] * 6).floor()
    spelt = (
        pl.when(kind == 0)
        .then(" " + a + " ")
        .when(kind == 1)
        .then(a + " år")
        .when(kind == 2)
        .then("ca " + a)
        .when(kind == 3)
        .then("cirka " + a)
        .when(kind == 4)
        .then(a + "?")
        .otherwise(low.cast(pl.String) + "-" + high.cast(pl.String))
    )
    plain = u[0] < 0.7
    as_number = plain & (u[1] < 0.5) if fmt.container == "xlsx" else pl.lit(False)
    text = pl.when(as_number).then(None).when(plain).then(a).otherwise(spelt)
    defect = pl.col("_dv_age") if "_dv_age" in rows.columns else pl.lit(None, pl.String)
    return pl.coalesce(defect, text), pl.when(as_number & defect.is_null()).then(age)


def _option_column(fmt, var: cbm.Variable, code: int) -> tuple[pl.Expr, pl.Expr | None]:
    codes = pl.col(var.name)
    present = codes.is_not_null() & (codes.list.len() > 0)
    chosen = codes.list.contains(code)
    marks = (fmt.chosen_mark, fmt.not_chosen_mark)
    if fmt.container == "xlsx" and {m for m in marks if m} <= {"0", "1"}:
        number = pl.when(present).then(
            pl.when(chosen).then(int(marks[0] or 0)).otherwise(int(marks[1]) if marks[1] else None)
        )
        return pl.lit(None, pl.String), number
    text = pl.when(present).then(pl.when(chosen).then(pl.lit(marks[0] or None)).otherwise(pl.lit(marks[1] or None)))
    return text, None


def list_column(fmt, var: cbm.Variable, layout: str) -> pl.Expr:
    sep = fmt.list_separator + ("" if layout == "list_codes" else " ")
    tokens = {c: ew.list_token(var, c, fmt, layout) for c in var.codes}
    joined = pl.col(var.name).list.eval(_mapped(pl.element(), tokens)).list.join(sep)
    return pl.when(pl.col(var.name).list.len() > 0).then(joined)


def _risk_cells(fmt, var: cbm.Variable, rows: pl.DataFrame, s, k: int, part: str):
    name = f"risk_{k}_{part}"
    if name not in rows.columns:
        return pl.lit(None, pl.String), None, None
    xlsx_number = fmt.container == "xlsx"
    if part == "date":
        return _date_cells(fmt, pl.col(name), _u(rows, s, name))
    if part == "instrument":
        if fmt.instrument_style == "label":
            return _mapped(pl.col(name), {c: var.label_of(c) for c in var.codes}), None, None
        return (
            (pl.lit(None, pl.String), pl.col(name), None) if xlsx_number else (pl.col(name).cast(pl.String), None, None)
        )
    defect = pl.col(f"_dv_{name}") if f"_dv_{name}" in rows.columns else pl.lit(None, pl.String)
    if xlsx_number:
        return defect, pl.when(defect.is_null()).then(pl.col(name)), None
    return pl.coalesce(defect, pl.col(name).cast(pl.String)), None, None


def _cells(fmt: ew.UnitFormat, rows: pl.DataFrame, unit: str, n_risk: int, s, es: ew.ExportSettings) -> list[_Cells]:
    """Every column of the file, headers as ``export_writer`` spells them."""
    cb = cbm.load()
    out, option_no = [], {}
    for column in ew.export_columns(fmt, max(n_risk, 1), unit, es):
        name, block = column.variable, column.block
        text, number, is_date = pl.lit(None, pl.String), None, None
        if name is None and block == "local":
            x = _u(rows, s, "local")
            text = pl.when(x < 0.15).then(pl.lit("Ja")).when(x < 0.6).then(pl.lit("Nej"))
        elif name is None:  # a comment column after variable ``block``
            x, y = _u(rows, s, "comment", block), _u(rows, s, "comment_text", block)
            text = pl.when(x < 0.12).then(
                pl.lit(pl.Series(ew.COMMENT_TEXTS)).gather((y * len(ew.COMMENT_TEXTS)).floor().cast(pl.Int64))
            )
        elif name.startswith("risk_"):
            _, k, part = name.split("_")
            text, number, is_date = _risk_cells(fmt, cb["risk_assessments"], rows, s, int(k), part)
        else:
            var = cb[name]
            if var.kind == "multi":
                layout = dict(fmt.multi_layouts)[name]
                if layout in ("option_label", "option_code"):
                    i = option_no[name] = option_no.get(name, -1) + 1
                    text, number = _option_column(fmt, var, var.options[i].code)
                else:
                    text = list_column(fmt, var, layout)
            elif var.kind == "single":
                text, number = _single_column(fmt, var, rows)
            elif var.kind == "date":
                text, number, is_date = _date_column(fmt, name, rows, s)
            elif var.kind == "integer":
                text, number = _age_column(fmt, rows, s)
            else:
                text = pl.col(name)
        out.append(_Cells(column.header, text, number, is_date, name))
    return out


# --------------------------------------------------------------------------- files
@dataclass(frozen=True)
class FileTask:
    folder: str
    relative: str
    unit: str
    municipality: str
    round: dt.date
    fmt: ew.UnitFormat
    rows: pl.DataFrame
    settings: NationalExportSettings


def _evaluate(rows: pl.DataFrame, cells: list[_Cells]) -> tuple[pl.DataFrame, pl.DataFrame | None, pl.DataFrame | None]:
    """The text, number and date-flag frames, one column per cell column, rows.height rows
    (with_columns broadcasts a literal column; select alone would give one row)."""

    def frame(exprs: list[pl.Expr]) -> pl.DataFrame:
        # no query optimisation: with ~150 independent columns it costs more than it saves
        return (
            rows.lazy()
            .with_columns(exprs)
            .select([e.meta.output_name() for e in exprs])
            .collect(optimizations=pl.QueryOptFlags.none())
        )

    text = frame([c.text.cast(pl.String).alias(f"t{i}") for i, c in enumerate(cells)])
    if all(c.number is None for c in cells):
        return text, None, None
    number = frame(
        [
            (c.number if c.number is not None else pl.lit(None)).cast(pl.Float64).alias(f"n{i}")
            for i, c in enumerate(cells)
        ]
    )
    is_date = frame(
        [
            (c.is_date if c.is_date is not None else pl.lit(False)).fill_null(False).alias(f"d{i}")
            for i, c in enumerate(cells)
        ]
    )
    return text, number, is_date


def _csv_bytes(fmt: ew.UnitFormat, headers: list[str], text: pl.DataFrame) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=fmt.delimiter, lineterminator=fmt.newline).writerow(headers)
    body = text.write_csv(
        include_header=False,
        separator=fmt.delimiter,
        line_terminator=fmt.newline,
        quote_style="necessary",
        null_value="",
    )
    encoding = fmt.encoding
    return (out.getvalue() + body).encode(encoding)


def _write_xlsx(path: Path, task: FileTask, headers: list[str], text, number, is_date) -> None:
    fmt = task.fmt
    workbook, sheet, date_format, blank, r = ew.start_export_workbook(
        str(path), {"constant_memory": True}, fmt, headers, task.round, task.municipality
    )
    texts = text.rows()
    numbers = number.rows() if number is not None else [()] * len(texts)
    dates = is_date.rows() if is_date is not None else [()] * len(texts)
    for t_row, n_row, d_row in zip(texts, numbers, dates):
        for c, value in enumerate(t_row):
            if value is not None:
                sheet.write_string(r, c, value)
            elif n_row and n_row[c] is not None:
                sheet.write_number(r, c, n_row[c], date_format if d_row[c] else None)
        r += 1
    for _ in range(fmt.trailing_empty_rows):
        for c in range(len(headers)):
            sheet.write_blank(r, c, None, blank)
        r += 1
    workbook.close()


def write_unit_file(task: FileTask) -> tuple[dict[str, Any], pl.DataFrame]:
    """Write one unit's export of one round; returns its manifest row and defect log."""
    rows = task.rows
    n_risk = max(
        (
            int(c.split("_")[1])
            for c in rows.columns
            if c.startswith("risk_") and c.endswith("_instrument") and rows[c].is_not_null().any()
        ),
        default=1,
    )
    es = ew.ExportSettings(seed=task.settings.seed)
    cells = _cells(task.fmt, rows, task.unit, n_risk, task.settings, es)
    headers = [c.header for c in cells]
    text, number, is_date = _evaluate(rows, cells)
    path = Path(task.folder) / task.relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if task.fmt.container == "xlsx":
        _write_xlsx(path, task, headers, text, number, is_date)
        header_row = task.fmt.title_rows + 1
        numbers = pl.int_range(header_row + 1, header_row + 1 + rows.height, eager=True)
    else:
        path.write_bytes(_csv_bytes(task.fmt, headers, text))
        header_row = 1
        breaks = text.select(pl.sum_horizontal(pl.all().str.count_matches("\n").fill_null(0)))
        numbers = 2 + breaks.to_series().cum_sum().shift(1, fill_value=0)
    file = dict(round=task.round, unit=task.unit, file=task.relative)
    manifest = ew.manifest_row(
        task.fmt, file, header_row, rows_written=rows.height, valid_rows=rows["_rule"].is_null().sum()
    )
    return manifest, _defect_log(rows, cells, text, numbers, file)


def _defect_log(
    rows: pl.DataFrame, cells: list[_Cells], text: pl.DataFrame, numbers: pl.Series, file: dict
) -> pl.DataFrame:
    """One row per rejected extra row and per field defect (DEFECT_LOG_SCHEMA)."""
    frame = rows.with_columns(_row=numbers.cast(pl.Int32))
    parts = [
        frame.filter(pl.col("_rule").is_not_null()).select(
            pl.col("_row").alias("row"),
            pl.lit(None, pl.String).alias("column"),
            pl.lit(None, pl.String).alias("variable"),
            pl.col("_rule").alias("rule"),
            pl.lit(None, pl.String).alias("value"),
        )
    ]
    header_of: dict[str, str] = {}
    for cell in cells:
        if cell.variable is not None:
            header_of.setdefault(cell.variable, cell.header)
    for name in [c[4:] for c in rows.columns if c.startswith("_dr_")]:
        dv = pl.col(f"_dv_{name}") if f"_dv_{name}" in rows.columns else pl.lit(None, pl.String)
        dd = pl.col(f"_dd_{name}").cast(pl.String) if f"_dd_{name}" in rows.columns else pl.lit(None, pl.String)
        parts.append(
            frame.filter(pl.col(f"_dr_{name}").is_not_null()).select(
                pl.col("_row").alias("row"),
                pl.lit(header_of.get(name), pl.String).alias("column"),
                pl.lit(name).alias("variable"),
                pl.col(f"_dr_{name}").alias("rule"),
                pl.coalesce(dv, dd).alias("value"),
            )
        )
    log = pl.concat(parts).with_columns(**{k: pl.lit(v) for k, v in file.items()})
    return log.select(ew.DEFECT_LOG_SCHEMA.names()).cast(dict(ew.DEFECT_LOG_SCHEMA))


def file_tasks(
    rows: pl.DataFrame,
    units: pl.DataFrame,
    formats: dict[str, ew.UnitFormat],
    round_date: dt.date,
    folder: Path,
    s: NationalExportSettings,
) -> list[FileTask]:
    """One task per submitting unit of the round (file names as ``export_writer`` makes them)."""
    by_unit = rows.partition_by("unit", as_dict=True, maintain_order=True)
    names: dict[str, bytes] = {}
    tasks = []
    for unit_row in units.sort("unit").iter_rows(named=True):
        unit = unit_row["unit"]
        part = by_unit.get((unit,))
        if part is None:
            continue
        fmt = formats[unit]
        relative = ew.unique_path(names, round_date.isoformat(), ew.export_file_name(fmt, unit_row, round_date), unit)
        names[relative] = b""
        tasks.append(
            FileTask(
                str(folder),
                relative,
                unit,
                str(unit_row["municipality"]),
                round_date,
                fmt,
                part.drop(
                    [
                        c
                        for c in part.columns
                        if part[c].null_count() == part.height and c.startswith(("_d", "_opened", "risk_"))
                    ]
                ),
                s,
            )
        )
    return tasks


def run_tasks(tasks: list[FileTask], pool: ProcessPoolExecutor | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Write every file (largest first, over the pool's processes when given);
    returns (manifest, defect log)."""
    tasks = sorted(tasks, key=lambda t: -t.rows.height)
    if pool is not None:
        results = list(pool.map(write_unit_file, tasks, chunksize=1))
    else:
        results = [write_unit_file(t) for t in tasks]
    manifest = pl.DataFrame([m for m, _ in results], schema=ew.MANIFEST_SCHEMA).sort("file")
    log = pl.concat([d for _, d in results]) if results else pl.DataFrame(schema=ew.DEFECT_LOG_SCHEMA)
    return manifest, log.sort("file", "row", "rule")


def _pool(workers: int, n_cases: int) -> ProcessPoolExecutor | None:
    """Worker processes pay off from a few thousand cases (starting one costs seconds).
    Spawned, not forked: a forked polars process can deadlock on its thread pool."""
    if workers <= 1 or n_cases < 5000:
        return None
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


# --------------------------------------------------------------------------- the whole set
def truth_frames(units: pl.DataFrame, snapshots: list) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the pipeline must compile: each unit's cases and risk assessments of the
    last round it submitted (``case_id`` here is the generator's own key)."""
    schema = cbm.case_schema()
    key = pl.concat_str("unit", "client", pl.col("opened").cast(pl.String), separator="|")
    cases, risk = [], []
    for r, snapshot in enumerate(snapshots):
        last = units.filter(pl.col("last_round") == r)["unit"].implode()
        cases.append(
            snapshot.cases.filter(pl.col("unit").is_in(last)).select(
                "unit", pl.lit(snapshot.round).alias("round"), key.alias("case_id"), *schema.names()
            )
        )
        risk.append(
            snapshot.risk.filter(pl.col("unit").is_in(last)).select(
                "unit", key.alias("case_id"), *cbm.risk_schema().names()
            )
        )
    return (
        pl.concat(cases).cast(dict(schema)).sort("unit", "opened", "case_id"),
        pl.concat(risk).cast(dict(cbm.risk_schema())).sort("unit", "case_id", "position"),
    )


def generate(
    settings,
    folder: Path,
    truth: Path | None = None,
    workers: int = 2,
    defect_rate: float = 0.005,
    xlsx_share: float | None = None,
) -> dict[str, Any]:
    """Write the national set into ``folder`` (and the truth into ``truth``); returns
    counts for the command's summary. ``xlsx_share``: the share of units exporting xlsx
    (default: an even draw per unit)."""
    folder = Path(folder)
    units, snapshots = national.national_rounds(settings)
    es = ew.ExportSettings(seed=settings.seed, xlsx_share=xlsx_share)
    s = NationalExportSettings(seed=settings.seed, defect_rate=defect_rate, period_start=settings.period_start)
    formats = ew.assign_formats(units["unit"].to_list(), es)
    ew.clear_previous_demo(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifests, logs = [], []
    pool = _pool(workers, settings.cases)
    try:
        for snapshot in snapshots:
            rows = plan_round(snapshot.cases, snapshot.risk, snapshot.round, s)
            manifest, log = run_tasks(file_tasks(rows, snapshot.units, formats, snapshot.round, folder, s), pool)
            manifests.append(manifest)
            logs.append(log)
    finally:
        if pool is not None:
            pool.shutdown()
    (folder / ew.MARKER_FILE).write_text(ew.marker_text(snapshots, es), encoding="utf-8", newline="\n")
    manifest, log = pl.concat(manifests), pl.concat(logs)
    cases, risk = truth_frames(units, snapshots)
    if truth is not None:
        _write_truth(Path(truth), units, cases, risk, manifest, log, settings)
    return dict(
        units=units.height,
        municipalities=units["kommun"].n_unique(),
        files=manifest.height,
        rows=int(manifest["rows_written"].sum()),
        cases=cases.height,
        rounds=len(snapshots),
        defects=log.height,
    )


def _write_truth(truth: Path, units, cases, risk, manifest, log, settings) -> None:
    truth.mkdir(parents=True, exist_ok=True)
    cases.write_parquet(truth / "cases.parquet")
    risk.write_parquet(truth / "risk.parquet")
    manifest.write_parquet(truth / "manifest.parquet")
    log.write_parquet(truth / "defects.parquet")
    units.with_columns(pl.col("submits").cast(pl.List(pl.String)).list.join(",")).write_csv(truth / "units.csv")
    (truth / "truth.yaml").write_text(
        "# Case-level truth of a national demo set (kvinnofrid demo --units ... --truth)\n"
        f"units: {settings.units}\ncases: {settings.cases}\nrounds: {settings.rounds}\nseed: {settings.seed}\n"
        "files: [cases.parquet, risk.parquet, manifest.parquet, defects.parquet, units.csv]\n",
        encoding="utf-8",
    )


def tables_from_truth(truth: Path, honour_interventions_min: int = 10) -> dict[int, pl.DataFrame]:
    """The 27 national tables computed from the truth directly, with the package's own
    derive and tables functions (no ingest, clean or compile)."""
    cases = pl.read_parquet(Path(truth) / "cases.parquet")
    risk = pl.read_parquet(Path(truth) / "risk.parquet")
    return tables.build_all_tables(
        derive.derive_cases(cases, risk),
        derive.risk_change(risk),
        settings={"honour_interventions_min": honour_interventions_min},
    )
