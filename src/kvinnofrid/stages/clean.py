"""Clean one raw file: parse every value by the codebook and apply the row rules.

Input is ingest's output for one file (``docs/stages.md``, section "ingest"): a frame whose
values are still text (``row``, ``client_key``, ``handler_key``, one column per
non-personal, non-repeated codebook variable, ``risk_<k>_date|instrument|rating``,
``comments``, ``has_suggestion``) and the file's JSON metadata.

Output (:class:`CleanResult`):

* ``used``: the rows used, typed: ``unit``, ``round``, ``file``, ``row``,
  ``client_key``, ``handler_key``, the ``case_schema()`` columns, ``comments``,
  ``has_suggestion``;
* ``excluded``: one row per quarantined or excluded row (``file``, ``row``,
  ``client_key``, ``rule``);
* ``risk``: the risk assessments of the used rows, long (``client_key``, ``opened`` +
  ``risk_schema()``);
* ``issues``: every issue of the file in ``rules.ISSUE_SCHEMA`` (the ingest-level issues
  of the metadata first, then the clean ones; each quarantined or excluded row has
  exactly one row-level issue naming its rule);
* ``counts``: ``rows_read``, ``rows_used``, ``rows_excluded``, ``rows_quarantined``,
  one count per rule of ``rules.RULES`` and ``comments`` / ``suggestions`` (non-empty
  comment cells and client suggestions on all rows read).

All parsing is vectorised: for every coded variable a lookup frame of every accepted
spelling (normalised) -> code is built once and joined; no per-row Python.

Row rules and precedence (docs/data-contract.md, "Row rules"): the rules of
``rules.row_rules()`` in the vocabulary's order (``case_key_missing``,
``duplicate_case_key``, ``opened_outside_period``, ``age_under_18``); whether each
quarantines or excludes the row is the vocabulary's (``rules.RULES[...].outcome``).

A row is counted once, under the first rule that applies. Field-level issues are
reported for the used rows only (a quarantined or excluded row gets one issue: the
rule that set it aside).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from kvinnofrid.errors import UserFacingError
from kvinnofrid.spec import codebook as cbmod
from kvinnofrid.spec.municipalities import unit_key
from kvinnofrid.spec.rules import ISSUE_SCHEMA, RULES, row_rules, with_outcome
from kvinnofrid.stages.distinct import per_distinct
from kvinnofrid.stages.redaction import shown_value_expr
from kvinnofrid.stages.unit_parts import part_counts, unit_parts
from kvinnofrid.stages.values import (
    code_lists,
    option_codes,
    parse_age_expr,
    parse_date_expr,
    parse_dates,
    unparsed,
)

VALUE_MAX_CHARS = 80

EXCLUDED_SCHEMA = pl.Schema({"file": pl.String(), "row": pl.Int32(), "client_key": pl.String(), "rule": pl.String()})
# The variable whose column locates a row rule's issue (and whose text is its value).
# None: the issue is about the whole row (no column, no value).
ROW_RULE_VARIABLE = {
    "row_has_extra_fields": None,
    "case_key_missing": "opened",
    "duplicate_case_key": "opened",
    "opened_outside_period": "opened",
    "age_under_18": "age",
    "unit_text_not_a_unit": "municipality",
}
# A row rule whose issue shows another column's text than the variable's own: the
# unit text ingest removed is shown by its description only.
ROW_RULE_VALUE = {"unit_text_not_a_unit": "unit_text"}
COUNT_KEYS = ("rows_read", "rows_used", "rows_excluded", "rows_quarantined")


class AccountingError(UserFacingError, RuntimeError):
    """rows read != rows used + rows excluded + rows quarantined: the run must stop."""


class CleanInputError(UserFacingError, ValueError):
    """The raw frame or its metadata breaks the ingest contract."""


# --------------------------------------------------------------------------- result


@dataclass
class CleanResult:
    file: str
    round: dt.date
    used: pl.DataFrame
    excluded: pl.DataFrame
    risk: pl.DataFrame
    issues: pl.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    # Set when the file's rows name several units (stages/unit_parts.py).
    unit_parts: list[dict[str, Any]] = field(default_factory=list)

    def write(
        self,
        *,
        cases: str | Path,
        risk: str | Path,
        rejected: str | Path,
        issues: str | Path,
        report: str | Path,
        meta: dict | None = None,
    ) -> None:
        """Write the stage's files: the used rows (``cases``), the risk long table, the
        quarantined/excluded rows (``rejected``), the issues, and the JSON ``report``
        (file, round, counts and the ingest metadata without its issues, which are in
        the issues file). Compile and quality read them back with :meth:`read`."""
        for path in (cases, risk, rejected, issues, report):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.used.write_parquet(cases)
        self.risk.write_parquet(risk)
        self.excluded.write_parquet(rejected)
        self.issues.write_parquet(issues)
        Path(report).write_text(
            json.dumps(self.report(meta), ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
        )

    def report(self, meta: dict | None = None) -> dict[str, Any]:
        """The JSON report: file, round, counts and the ingest metadata without its issues
        (they are in the issues frame), plus the unit parts when the file has several."""
        meta_out = {k: v for k, v in (meta or {}).items() if k != "issues"}
        if self.unit_parts:
            meta_out["unit_parts"] = self.unit_parts
        return {"file": self.file, "round": self.round.isoformat(), "counts": self.counts, "meta": meta_out}

    @classmethod
    def read(
        cls,
        *,
        report: str | Path,
        cases: str | Path | None = None,
        risk: str | Path | None = None,
        rejected: str | Path | None = None,
        issues: str | Path | None = None,
    ) -> tuple[dict, CleanResult]:
        """(meta, result) from the files of :meth:`write`; a frame whose path is None
        is left empty (the quality pages need only the report and the issues)."""
        info = json.loads(Path(report).read_text(encoding="utf-8"))
        frames = {
            name: pl.read_parquet(path)
            for name, path in (("used", cases), ("excluded", rejected), ("risk", risk), ("issues", issues))
            if path is not None
        }
        return cls.from_report(info, **frames)

    @classmethod
    def from_report(cls, info: dict[str, Any], **frames: pl.DataFrame) -> tuple[dict, CleanResult]:
        """(meta, result) from a :meth:`report` and the frames given (used, excluded, risk,
        issues); a frame not given is left empty."""
        result = cls(
            file=info["file"],
            round=dt.date.fromisoformat(info["round"]),
            **{name: frames[name] if name in frames else _empty_frame(name) for name in RESULT_PARTS},
            counts={k: int(v) for k, v in info["counts"].items()},
        )
        meta = {"file": info["file"], "round": info["round"], **info.get("meta", {})}
        return meta, result


def used_schema() -> pl.Schema:
    """Columns of the clean parquet (the rows used)."""
    return pl.Schema(
        {
            "unit": pl.String(),
            "round": pl.Date(),
            "file": pl.String(),
            "row": pl.Int32(),
            "client_key": pl.String(),
            "handler_key": pl.String(),
            **dict(cbmod.case_schema()),
            "comments": pl.Int16(),
            "has_suggestion": pl.Boolean(),
        }
    )


def risk_long_schema() -> pl.Schema:
    return pl.Schema({"client_key": pl.String(), "opened": pl.Date(), **dict(cbmod.risk_schema())})


RESULT_PARTS = ("used", "excluded", "risk", "issues")


def _empty_frame(part: str) -> pl.DataFrame:
    """An empty frame of one of a result's parts. The schemas are built once per process:
    the quality rule reads every file's report without its cases, and building the
    40-column schema again for each of hundreds of files cost seconds."""
    return _empty_frames()[part].clear()  # a new frame: no caller shares the cached one


@cache
def _empty_frames() -> dict[str, pl.DataFrame]:
    schemas = (used_schema(), EXCLUDED_SCHEMA, risk_long_schema(), ISSUE_SCHEMA)
    return {part: pl.DataFrame(schema=schema) for part, schema in zip(RESULT_PARTS, schemas, strict=True)}


# ----------------------------------------------------------------------- helpers


def as_date(value: Any) -> dt.date:
    """A date from a date, a datetime or an ISO text (its first ten characters)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _headers(meta: dict) -> dict[str, str]:
    """variable/column name -> header text in the file (first header that maps to it)."""
    out: dict[str, str] = dict(meta.get("variable_columns") or {})
    for header, target in (meta.get("columns") or {}).items():
        if isinstance(target, str) and target not in out:
            out[target] = header
    return out


def _header_of(headers: dict[str, str], column: str, var: cbmod.Variable | None) -> str:
    if column in headers:
        return headers[column]
    if var is not None and var.name in headers and not column.startswith("risk_"):
        return headers[var.name]
    if column.startswith("risk_"):
        _, k, fld = column.split("_", 2)
        cb = cbmod.load()
        risk = cb["risk_assessments"]
        fields = risk.extra.get("fields", {})
        return f"{risk.extra.get('group_prefix', 'Skattning risk')} {k} {fields.get(fld, fld)}"
    if var is not None:
        return f"{var.label} ({var.suv})"
    return column


def _meta_issues(meta: dict) -> pl.DataFrame:
    rows = meta.get("issues") or []
    if isinstance(rows, pl.DataFrame):
        return rows.select([pl.col(c).cast(t) for c, t in ISSUE_SCHEMA.items()])
    if not rows:
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    return pl.DataFrame([{c: r.get(c) for c in ISSUE_SCHEMA} for r in rows], schema=ISSUE_SCHEMA)


def _risk_positions(columns: list[str]) -> list[int]:
    ks = set()
    for c in columns:
        parts = c.split("_")
        if (
            len(parts) == 3
            and parts[0] == "risk"
            and parts[1].isdigit()
            and parts[2] in ("date", "instrument", "rating")
        ):
            ks.add(int(parts[1]))
    return sorted(ks)


# ------------------------------------------------------------------------- issues


class _Issues:
    """The clean issues of a pooled frame, collected in the order one file's issues are
    listed: by step (the order of :meth:`add`), then by row within a step. A step names
    its column by a key (a variable, ``client``, ``risk_<k>_<field>``), resolved to each
    file's header text at the end. The value is shown only when it cannot be personal,
    else described by kind (redaction.py); ``described``: it is a description already."""

    def __init__(self) -> None:
        self.parts: list[pl.LazyFrame] = []  # one query for them all, in :meth:`frame`
        self.keys: set[str] = set()
        self.steps = 0

    def new_step(self) -> int:
        self.steps += 1
        return self.steps

    def add(
        self,
        frame: pl.DataFrame,
        key: str | None,
        variable: str | None,
        rule: str,
        value: pl.Expr | None = None,
        *,
        described: bool = False,
        order: pl.Expr | None = None,
        by_column: bool = False,
        step: int | None = None,
    ) -> None:
        step = self.new_step() if step is None else step
        if frame.height == 0:  # the usual case: skip building the redaction expression
            return
        if key is not None:
            self.keys.add(key)
        shown = value.cast(pl.String) if described and value is not None else value
        self.parts.append(
            frame.lazy()
            .select(
                "_f",
                pl.col("row").cast(pl.Int32),
                pl.lit(key, pl.String).alias("_key"),
                pl.lit(variable, pl.String).alias("variable"),
                pl.lit(rule, pl.String).alias("rule"),
                (pl.lit(None, pl.String) if value is None else shown if described else shown_value_expr(value)).alias(
                    "value"
                ),
                pl.lit(step, pl.Int64).alias("_g"),
                (pl.col("_idx") if order is None else order).cast(pl.Int64).alias("_o"),
                pl.lit(by_column).alias("_by_column"),
            )
            .cast(dict(_STEP_SCHEMA))
        )

    def frame(self, ingest: pl.DataFrame, sources: Sequence[Source]) -> pl.DataFrame:
        """Every issue (``_f`` + ``ISSUE_SCHEMA``): ingest's first, in their order, then the steps'."""
        parts = self.parts or [pl.LazyFrame(schema=_STEP_SCHEMA)]
        headers = _header_frame(sources, self.keys).lazy()
        steps = pl.concat(parts).join(headers, on=["_f", "_key"], how="left").collect()
        # a step sorted by column too (the risk fields) is sorted by the header text
        steps = steps.with_columns(pl.when("_by_column").then(pl.col("column")).alias("_c"))
        first = ingest.select(
            "_f",
            *ISSUE_SCHEMA.names(),
            pl.lit(-1, pl.Int64).alias("_g"),
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_o"),
            pl.lit(None, pl.String).alias("_c"),
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_s"),
        )
        steps = steps.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_s"), file=_file_names(sources))
        issues = pl.concat([first, steps.select(first.columns)]).sort("_f", "_g", "_o", "_c", "_s", maintain_order=True)
        return issues.select("_f", *ISSUE_SCHEMA.names()).cast(dict(ISSUE_SCHEMA))


_STEP_SCHEMA = pl.Schema(
    {
        "_f": pl.UInt32(),
        "row": pl.Int32(),
        "_key": pl.String(),
        "variable": pl.String(),
        "rule": pl.String(),
        "value": pl.String(),
        "_g": pl.Int64(),
        "_o": pl.Int64(),
        "_by_column": pl.Boolean(),
    }
)


def _header_frame(sources: Sequence[Source], keys: set[str]) -> pl.DataFrame:
    """``_f``, ``_key``, ``column``: each file's header text for every key an issue names."""
    cb = cbmod.load()
    names = {v.name for v in cb.variables}
    rows = []
    for f, source in enumerate(sources):
        headers = _headers(source.meta)
        rows += [(f, key, _header_of(headers, key, cb[key] if key in names else None)) for key in sorted(keys)]
    schema = {"_f": pl.UInt32, "_key": pl.String, "column": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _file_names(sources: Sequence[Source]) -> pl.Expr:
    return _per_file(sources, [str(s.meta.get("file", "?")) for s in sources], pl.String)


def _per_file(sources: Sequence[Source], values: list[Any], dtype: pl.DataType) -> pl.Expr:
    """An expression giving each row its file's value (``values``, one per source)."""
    return pl.col("_f").replace_strict(list(range(len(sources))), values, default=None, return_dtype=dtype)


# ------------------------------------------------------------------------- clean


@dataclass(frozen=True)
class Source:
    """One file of a pooled raw frame: its ingest metadata, the round's submission date
    (closing dates after it are set missing) and the unit (default: the metadata's
    ``unit`` or ``municipality``; compile assigns the final unit name)."""

    meta: dict
    round_date: dt.date
    unit: str | None = None

    @property
    def file(self) -> str:
        return str(self.meta.get("file", "?"))


def clean_file(
    raw: pl.DataFrame,
    meta: dict,
    period: tuple[dt.date, dt.date],
    round_date: dt.date,
    *,
    unit: str | None = None,
) -> CleanResult:
    """Parse one raw file by the codebook and apply the row rules (see module doc):
    :func:`clean_pooled` of one file, its ingest issues from the metadata.

    ``period`` is (first, last) opening date, inclusive; ``round_date`` the submission
    date (closing dates after it are set missing). Raises :class:`CleanInputError` when
    the frame lacks ``row``/``client_key``, and :class:`AccountingError` when the rows
    do not add up.
    """
    source = Source(meta, round_date, unit)
    require_ingest_columns(raw, source.file)
    issues = _meta_issues(meta).with_columns(pl.lit(0, pl.UInt32).alias("_f"))
    return clean_pooled(raw.with_columns(pl.lit(0, pl.UInt32).alias("_f")), [source], issues, period)[0]


def clean_pooled(
    raw: pl.DataFrame, sources: Sequence[Source], ingest_issues: pl.DataFrame, period: tuple[dt.date, dt.date]
) -> list[CleanResult]:
    """Clean the raw rows of several files at once: ``raw`` holds every file's rows
    (``_f``: the file's position in ``sources``), ``ingest_issues`` their ingest issues
    (``_f`` + ``ISSUE_SCHEMA``, each file's in order). Every rule runs once over all the
    rows; the result is split by file afterwards, each file's exactly as it would be
    alone (its issues in their order, its accounting checked)."""
    cb = cbmod.load()
    require_ingest_columns(raw, sources[0].file if sources else "?")
    frame = prepare_text(raw, cb).with_columns(
        _per_file(sources, [s.round_date for s in sources], pl.Date).alias("_submitted")
    )
    frame = apply_row_rules(frame, period, cb)
    set_aside = frame.filter(pl.col("_row_rule").is_not_null())
    used = frame.filter(pl.col("_row_rule").is_null())
    issues = _Issues()
    row_rule_issues(set_aside, issues, cb)
    used, typed = parse_fields(used, issues, cb)
    used = set_missing_closing_date(used, issues)
    typed["closed"] = pl.when(pl.col("_closed_rule").is_null()).then(pl.col("_closed_date"))
    used = used.sort("_idx")
    out = used.select(
        "_f",
        _per_file(
            sources, [s.unit or s.meta.get("unit") or s.meta.get("municipality") for s in sources], pl.String
        ).alias("unit"),
        _per_file(sources, [as_date(s.meta.get("round", s.round_date)) for s in sources], pl.Date).alias("round"),
        _file_names(sources).alias("file"),
        pl.col("row"),
        pl.col("client_key"),
        pl.col("handler_key").cast(pl.String),
        *[typed[n].cast(t).alias(n) for n, t in cbmod.case_schema(cb).items()],
        pl.col("comments").cast(pl.Int16).fill_null(0),
        pl.col("has_suggestion").cast(pl.Boolean).fill_null(False),
    )
    warn_open_cases(out, issues, cb)
    risk = parse_risk(used, issues)
    excluded = set_aside.sort("_idx").select(
        "_f", _file_names(sources).alias("file"), "row", "client_key", pl.col("_row_rule").alias("rule")
    )
    issue_frame = issues.frame(ingest_issues, sources)
    return _split(frame, out, excluded, risk, issue_frame, sources)


def _split(
    frame: pl.DataFrame,
    out: pl.DataFrame,
    excluded: pl.DataFrame,
    risk: pl.DataFrame,
    issues: pl.DataFrame,
    sources: Sequence[Source],
) -> list[CleanResult]:
    """One CleanResult per file, its accounting checked and its unit parts found."""
    parts = {
        name: (_by_file(f), f.drop("_f").clear())
        for name, f in (("used", out), ("excluded", excluded), ("risk", risk), ("issues", issues))
    }
    counts = count_rows(frame, out, excluded, issues, sources)
    several = _files_naming_several_units(frame)
    results = []
    for f, source in enumerate(sources):
        frames = {name: by_file.get(f, empty) for name, (by_file, empty) in parts.items()}
        check_accounting(counts[f], source.file)
        result = CleanResult(
            file=source.file,
            round=as_date(source.meta.get("round", source.round_date)),
            **frames,
            counts=counts[f],
        )
        if f in several:
            result = replace(result, unit_parts=find_unit_parts(frame.filter(pl.col("_f") == f), result))
        results.append(result)
    return results


def _by_file(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    return {key[0]: part for key, part in frame.partition_by("_f", as_dict=True, include_key=False).items()}


def _files_naming_several_units(frame: pl.DataFrame) -> set[int]:
    """The files whose rows may name several units (:func:`unit_parts.unit_parts`
    decides): two Kommun/stadsdel texts, or two Verksamhet codes. Tested once per
    distinct text, not per row."""
    texts = frame.select("_f", "municipality", "service_type").unique()
    keys = {t: unit_key(t) or None for t in texts.get_column("municipality").drop_nulls().unique().to_list()}
    texts = texts.with_columns(
        pl.col("municipality").replace_strict(keys, default=None, return_dtype=pl.String).alias("_m")
    )
    texts = option_codes(texts, {"service_type": "service_type"})
    per_file = texts.group_by("_f").agg(
        pl.col("_m").drop_nulls().n_unique().alias("_units"),
        pl.col("_service_type_code").drop_nulls().n_unique().alias("_codes"),
    )
    return set(per_file.filter((pl.col("_units") > 1) | (pl.col("_codes") > 1)).get_column("_f").to_list())


def find_unit_parts(frame: pl.DataFrame, result: CleanResult) -> list[dict[str, Any]]:
    """The parts of a file whose rows name several units, each with its accounting."""
    rows = option_codes(frame.select("row", "municipality", "service_type"), {"service_type": "service_type"})
    rows = rows.select("row", "municipality", pl.col("_service_type_code").alias("service"))
    parts = unit_parts(rows)
    for part in parts:
        part["counts"] = part_counts(result, part["rows"])
        check_accounting(part["counts"], f"{result.file} ({part['municipality']})")
    return parts


def require_ingest_columns(raw: pl.DataFrame, file: str) -> None:
    """Raise CleanInputError unless the raw frame has the columns every row needs."""
    for needed in ("row", "client_key"):
        if needed not in raw.columns:
            raise CleanInputError(f"{file}: råfilen saknar kolumnen {needed!r} (ingest-kontraktet)")


def prepare_text(raw: pl.DataFrame, cb: cbmod.Codebook) -> pl.DataFrame:
    """The raw frame with a row index, every codebook column (missing ones null) and
    text values stripped, empty -> null (ingest should have done it; cheap to repeat)."""
    schema = cbmod.case_schema(cb)
    frame = raw.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_idx"), pl.col("row").cast(pl.Int32))
    missing_cols = {}
    for name in schema.names():
        if name not in frame.columns:
            missing_cols[name] = pl.lit(None, pl.List(pl.String) if cb[name].kind == "multi" else pl.String)
    defaults = {
        "handler_key": pl.lit(None, pl.String),
        "comments": pl.lit(0, pl.Int16),
        "has_suggestion": pl.lit(False),
        "extra_fields": pl.lit(False),
        "unit_text": pl.lit(None, pl.String),
    }
    missing_cols |= {c: value for c, value in defaults.items() if c not in frame.columns}
    if missing_cols:
        frame = frame.with_columns(**missing_cols)
    text_cols = [n for n in schema.names() if cb[n].kind != "multi"]
    text_cols += [c for c in frame.columns if c.startswith("risk_")]
    return frame.with_columns(
        [pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in text_cols]
        + [pl.col("client_key").cast(pl.String).str.strip_chars().replace("", None)]
    )


# ---------------------------------------------------------------------- row rules
#
# One step per row rule of the vocabulary (rules.row_rules()); apply_row_rules runs
# them in the vocabulary's precedence, so a row is named by the first rule that applies.
# Whether a rule quarantines or excludes is the vocabulary's, not this module's.


def _name_row_rule(frame: pl.DataFrame, rule: str, applies: pl.Expr) -> pl.DataFrame:
    """``_row_rule`` = ``rule`` where it applies and no earlier rule did."""
    return frame.with_columns(
        pl.when(pl.col("_row_rule").is_null() & applies)
        .then(pl.lit(rule))
        .otherwise(pl.col("_row_rule"))
        .alias("_row_rule")
    )


def _has_case_key() -> pl.Expr:
    return pl.col("client_key").is_not_null() & pl.col("_opened").is_not_null()


def quarantine_extra_fields(frame: pl.DataFrame) -> pl.DataFrame:
    """row_has_extra_fields: a CSV record with more fields than the header (ingest
    flags it and keeps none of its shifted values)."""
    return _name_row_rule(frame, "row_has_extra_fields", pl.col("extra_fields").fill_null(False))


def quarantine_missing_key(frame: pl.DataFrame) -> pl.DataFrame:
    """case_key_missing: no client key, or no valid opening date."""
    return _name_row_rule(frame, "case_key_missing", ~_has_case_key())


def quarantine_duplicate_key(frame: pl.DataFrame) -> pl.DataFrame:
    """duplicate_case_key: the same client and opening date as an earlier row of the file."""
    later = pl.col("_idx").rank("ordinal").over(["_f", "client_key", "_opened"]) > 1
    return _name_row_rule(frame, "duplicate_case_key", _has_case_key() & later)


def quarantine_unit_text(frame: pl.DataFrame) -> pl.DataFrame:
    """unit_text_not_a_unit: ingest found no unit in the row's Kommun/stadsdel text (a
    name, an address, a text on a few rows only) and removed it, keeping its description."""
    return _name_row_rule(frame, "unit_text_not_a_unit", pl.col("unit_text").is_not_null())


def exclude_outside_period(frame: pl.DataFrame, period: tuple[dt.date, dt.date]) -> pl.DataFrame:
    """opened_outside_period: opened before the first or after the last day (inclusive)."""
    first, last = period
    outside = (pl.col("_opened") < first) | (pl.col("_opened") > last)
    return _name_row_rule(frame, "opened_outside_period", outside)


def exclude_under_adult_age(frame: pl.DataFrame, adult_age: int) -> pl.DataFrame:
    """age_under_18: younger than the codebook's adult age (a missing age is no reason)."""
    return _name_row_rule(frame, "age_under_18", pl.col("_age") < adult_age)


def apply_row_rules(frame: pl.DataFrame, period: tuple[dt.date, dt.date], cb: cbmod.Codebook) -> pl.DataFrame:
    """Parse the opening date (``_opened``) and age (``_age``) and name each row's row
    rule in ``_row_rule`` (null: the row is used)."""
    steps = {
        "row_has_extra_fields": quarantine_extra_fields,
        "case_key_missing": quarantine_missing_key,
        "duplicate_case_key": quarantine_duplicate_key,
        "opened_outside_period": lambda f: exclude_outside_period(f, period),
        "age_under_18": lambda f: exclude_under_adult_age(f, int(cb.derived["adult_age"])),
        "unit_text_not_a_unit": quarantine_unit_text,
    }
    frame = per_distinct(frame, "opened", parse_date_expr, "_opened", pl.Date)
    frame = per_distinct(frame, "age", parse_age_expr, "_age", pl.Int64)
    frame = frame.with_columns(pl.lit(None, pl.String).alias("_row_rule"))
    for rule_name in row_rules():
        frame = steps[rule_name](frame)
    return frame


def row_rule_issues(set_aside: pl.DataFrame, issues: _Issues, cb: cbmod.Codebook) -> None:
    """One issue per set-aside row, located at the column that decided it (the opening
    date or the age, with its text as value). A row without a client key is located at
    the Klient column and gets no value: the value is personal and never shown."""
    no_client = (pl.col("_row_rule") == "case_key_missing") & pl.col("client_key").is_null()
    issues.add(set_aside.filter(no_client), "client", "client", "case_key_missing")
    for rule_name in row_rules():
        part = set_aside.filter((pl.col("_row_rule") == rule_name) & ~no_client)
        var = ROW_RULE_VARIABLE[rule_name]
        if var is None:
            issues.add(part, None, None, rule_name)
        elif rule_name in ROW_RULE_VALUE:
            issues.add(part, var, var, rule_name, pl.col(ROW_RULE_VALUE[rule_name]), described=True)
        else:
            issues.add(part, var, var, rule_name, pl.col(var))


# -------------------------------------------------------------------- field rules


def parse_fields(used: pl.DataFrame, issues: _Issues, cb: cbmod.Codebook) -> tuple[pl.DataFrame, dict[str, pl.Expr]]:
    """Parse every codebook variable of the used rows: (frame with the parsed helper
    columns, {variable: typed expression}); the field issues (unknown_value,
    invalid_date, age_not_a_number, age_above_110) go to ``issues``, in the codebook's
    order of the variables. Each kind is parsed in one pass over all its columns."""
    schema = cbmod.case_schema(cb)
    kinds: dict[str, list[str]] = {}
    for name in schema.names():
        kinds.setdefault(cb[name].kind, []).append(name)
    dates = [n for n in kinds.get("date", []) if n != "opened"]  # opened: parsed by the row rules
    used = option_codes(used, {n: n for n in kinds.get("single", [])})
    used, unknown_tokens = code_lists(used, kinds.get("multi", []))
    used = parse_dates(used, dates)
    unknown = unparsed(used, {n: f"_{n}_code" for n in kinds.get("single", [])} | {n: f"_{n}_date" for n in dates})
    unknown |= unknown_tokens
    typed: dict[str, pl.Expr] = {}
    for name in schema.names():
        kind = cb[name].kind
        rule = _FIELD_RULE.get(kind)
        if rule and name != "opened":
            issues.add(unknown.get(name, _NO_ROWS), name, name, rule, pl.col("text"))
        typed[name] = _typed(name, kind, used, issues, cb)
    return used, typed


_NO_ROWS = pl.DataFrame()
_FIELD_RULE = {"single": "unknown_value", "multi": "unknown_value", "date": "invalid_date"}  # text that names nothing


def _typed(name: str, kind: str, used: pl.DataFrame, issues: _Issues, cb: cbmod.Codebook) -> pl.Expr:
    """The typed expression of a parsed variable (age: its issues go to ``issues``)."""
    if kind == "single":
        return pl.col(f"_{name}_code").cast(pl.Int8)
    if kind == "multi":
        return pl.col(f"_{name}_codes")
    if kind == "date":
        return pl.col("_opened" if name == "opened" else f"_{name}_date")
    if kind == "integer" and name == "age":
        return set_missing_implausible_age(used, issues, int(cb.derived["max_age"]))
    if kind == "integer":  # pragma: no cover - the codebook has one integer variable
        return pl.col(name).str.extract(r"^(\d{1,6})$", 1).cast(pl.Int64)
    return pl.col(name).cast(pl.String)


def set_missing_implausible_age(used: pl.DataFrame, issues: _Issues, max_age: int) -> pl.Expr:
    """age_not_a_number and age_above_110 (the codebook's ``max_age``): age set missing."""
    issues.add(
        used.filter(pl.col("age").is_not_null() & pl.col("_age").is_null()),
        "age",
        "age",
        "age_not_a_number",
        pl.col("age"),
    )
    issues.add(used.filter(pl.col("_age") > max_age), "age", "age", "age_above_110", pl.col("age"))
    return pl.when(pl.col("_age") <= max_age).then(pl.col("_age")).cast(pl.Int16)


def set_missing_closing_date(used: pl.DataFrame, issues: _Issues) -> pl.DataFrame:
    """closing_date_before_opening and closing_date_after_submission (after the file's
    round, ``_submitted``): ``_closed_rule`` names the rule that sets the (parsed)
    closing date missing."""
    used = used.with_columns(
        pl.when(pl.col("_closed_date") < pl.col("_opened"))
        .then(pl.lit("closing_date_before_opening"))
        .when(pl.col("_closed_date") > pl.col("_submitted"))
        .then(pl.lit("closing_date_after_submission"))
        .alias("_closed_rule")
    )
    for rule_name in ("closing_date_before_opening", "closing_date_after_submission"):
        issues.add(used.filter(pl.col("_closed_rule") == rule_name), "closed", "closed", rule_name, pl.col("closed"))
    return used


def warn_open_cases(out: pl.DataFrame, issues: _Issues, cb: cbmod.Codebook) -> None:
    """survey_answers_on_open_case and goal_followup_without_closing_date (warnings on
    the typed used rows, in row order: nothing changes)."""
    survey = [n for n in cb.derived["survey_variables"] if n in out.columns]
    out = out.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_idx"))
    open_case = pl.col("closed").is_null()
    if survey:
        answered = pl.any_horizontal([pl.col(n).is_not_null() for n in survey])
        issues.add(out.filter(open_case & answered), None, None, "survey_answers_on_open_case")
    part = out.filter(open_case & pl.col("goal_followup").is_not_null())
    issues.add(part, "goal_followup", "goal_followup", "goal_followup_without_closing_date")


# --------------------------------------------------------------------- accounting


def count_rows(
    frame: pl.DataFrame, out: pl.DataFrame, excluded: pl.DataFrame, issues: pl.DataFrame, sources: Sequence[Source]
) -> list[dict[str, int]]:
    """Each file's counts (module doc): rows by fate, issues by rule, and comments and
    suggestions on all rows read. Which set-aside rows are quarantined (rather than
    excluded) is the rule vocabulary's."""
    quarantine = with_outcome("quarantine")
    used = dict(out.group_by("_f").len().iter_rows())
    set_aside = excluded.group_by("_f").agg(
        pl.len().alias("n"), pl.col("rule").is_in(quarantine).sum().alias("quarantined")
    )
    set_aside = {f: (n, q) for f, n, q in set_aside.iter_rows()}
    by_rule: dict[int, dict[str, int]] = {}
    for f, rule, n in issues.group_by("_f", "rule").len().iter_rows():
        by_rule.setdefault(f, {})[rule] = n
    notes = frame.group_by("_f").agg(
        pl.col("comments").cast(pl.Int64).fill_null(0).sum(),
        pl.col("has_suggestion").cast(pl.Boolean).fill_null(False).sum(),
    )
    notes = {f: (c, s) for f, c, s in notes.iter_rows()}
    counts = []
    for f, source in enumerate(sources):
        n_set_aside, quarantined = set_aside.get(f, (0, 0))
        rows_read = source.meta.get("rows_read")
        file_counts = {
            "rows_read": int(rows_read) if rows_read is not None else int(frame.filter(pl.col("_f") == f).height),
            "rows_used": int(used.get(f, 0)),
            "rows_excluded": int(n_set_aside - quarantined),
            "rows_quarantined": int(quarantined),
        }
        file_counts |= {name: int(by_rule.get(f, {}).get(name, 0)) for name in RULES}
        comments, suggestions = notes.get(f, (0, 0))
        counts.append(file_counts | {"comments": int(comments), "suggestions": int(suggestions)})
    return counts


def check_accounting(counts: dict[str, int], where: str) -> None:
    """Raise AccountingError unless rows_read = used + excluded + quarantined."""
    read, used, excl, quar = (int(counts[k]) for k in COUNT_KEYS)
    if read != used + excl + quar:
        raise AccountingError(
            f"{where}: raderna går inte ihop – lästa {read} ≠ använda {used} + exkluderade {excl} "
            f"+ i karantän {quar} (= {used + excl + quar}). Körningen avbryts; kontrollera ingest-steget."
        )


def parse_risk(used: pl.DataFrame, issues: _Issues) -> pl.DataFrame:
    """The risk assessments of the used rows, long (``risk_long_schema`` plus ``_f``);
    their issues (invalid_date, unknown_value, risk_rating_out_of_range) are one step,
    sorted by row and column as the unit reads them. Every position is parsed at once."""
    var = cbmod.load()["risk_assessments"]
    lo, hi = var.extra["rating_range"]
    step = issues.new_step()
    schema = {"_f": pl.UInt32(), **dict(risk_long_schema())}
    long = _risk_cells(used)
    if not long.height:
        return pl.DataFrame(schema=schema)
    long = per_distinct(long, "date", parse_date_expr, "_date", pl.Date)
    long = option_codes(long, {"instrument": var.name})
    long = per_distinct(long, "rating", lambda t: _rating_expr(t, lo, hi), "_rating", pl.Int64)
    bad = unparsed(long, {"date": "_date", "instrument": "_instrument_code", "rating": "_rating"}, keep=("position",))
    rules = {"date": "invalid_date", "instrument": "unknown_value", "rating": "risk_rating_out_of_range"}
    for field_name, rule in rules.items():
        if field_name not in bad:
            continue
        for (k,), part in bad[field_name].partition_by("position", as_dict=True).items():
            key = f"risk_{k}_{field_name}"
            issues.add(part, key, var.name, rule, pl.col("text"), order=pl.col("row"), by_column=True, step=step)
    return (
        long.sort("_idx", "position")
        .select(
            "_f",
            "client_key",
            "opened",
            "position",
            pl.col("_date").alias("date"),
            pl.col("_instrument_code").cast(pl.Int8).alias("instrument"),
            pl.col("_rating").cast(pl.Int8).alias("rating"),
        )
        .cast(schema)
    )


def _risk_cells(used: pl.DataFrame) -> pl.DataFrame:
    """One row per risk position of a used row with an instrument or a rating:
    ``_f``, ``_idx``, ``row``, ``client_key``, ``opened``, ``position`` and the texts."""
    parts = [
        used.lazy().select(
            "_f",
            "_idx",
            "row",
            "client_key",
            pl.col("_opened").alias("opened"),
            pl.lit(k, pl.Int8).alias("position"),
            *[_text_or_null(used, f"risk_{k}_{f}").alias(f) for f in ("date", "instrument", "rating")],
        )
        for k in _risk_positions(used.columns)
    ]
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts).filter(pl.col("instrument").is_not_null() | pl.col("rating").is_not_null()).collect()


def _text_or_null(frame: pl.DataFrame, column: str) -> pl.Expr:
    return (pl.col(column) if column in frame.columns else pl.lit(None, pl.String)).cast(pl.String)


def _rating_expr(text: pl.Expr, lo: int, hi: int) -> pl.Expr:
    """A rating within the instrument's range (null otherwise)."""
    rating = text.str.extract(r"^\s*(\d{1,6})(?:[.,]0+)?\s*$", 1).cast(pl.Int64, strict=False)
    return pl.when((rating >= lo) & (rating <= hi)).then(rating)
