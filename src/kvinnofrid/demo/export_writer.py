"""Write simulated SUreg exports in every variant of the raw-data contract.

The demo generator (``simulate``) produces one *round snapshot* per submission round:
the canonical, valid cases of every unit. This module turns a snapshot into the files
units would send in (``docs/data-contract.md``): one ``.xlsx`` or ``.csv``
per unit under ``<folder>/<YYYY-MM-DD>/``, each unit with its own, stable export
habits (a :class:`UnitFormat`), plus realistic defects.

Defects never change what the pipeline should compile:

* *field defects* are written only where the canonical value is missing (null), so
  setting the offending field missing gives back the canonical value;
* *row defects* are extra rows on top of the valid cases (no Klient, a duplicate key
  after the original, a client under 18, a case opened before the period).

Everything injected is returned as a *defect log* (:data:`DEFECT_LOG_SCHEMA`), and the
format chosen for every file as a *manifest* (:data:`MANIFEST_SCHEMA`); neither is
written into the raw-data folder.

Row numbers (the ``row`` of the defect log) are the numbers the unit sees:

* ``.xlsx``: the spreadsheet row on the data sheet (1-based), counting title rows and
  the header row;
* ``.csv``: the physical line on which the record *starts*, the header being line 1.
  A quoted field with line breaks makes its record span several lines; the following
  record's number counts them (every ``\\n`` is a line break, also inside ``\\r\\n``).

Determinism: the same snapshot and settings give byte-identical files. All choices
come from hashes of (seed, unit slug, case key, ...), never from the clock; a case's
cell spellings and its defects therefore stay the same from one round to the next.
The xlsx files have a fixed creation date (the round date) and xlsxwriter's constant
zip-entry timestamps.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from kvinnofrid import __version__
from kvinnofrid.demo.simulate import DEMO_SEED, PERIOD_START
from kvinnofrid.spec import codebook as cbm

GENERATOR_VERSION = "1"
MARKER_FILE = "demodata.yaml"

DEFECT_LOG_SCHEMA = pl.Schema(
    {
        "round": pl.Date(),  # the submission round (folder name)
        "unit": pl.String(),  # unit slug
        "file": pl.String(),  # path relative to the raw-data folder, e.g. "2023-10-10/vald_arboga.csv"
        "row": pl.Int32(),  # row number as the unit sees it (see module docstring)
        "column": pl.String(),  # header text of the offending cell; null for row defects
        "variable": pl.String(),  # codebook name (risk: "risk_<k>_rating"); null for row defects
        "rule": pl.String(),  # a key of rules.RULES: the outcome the pipeline must report
        "value": pl.String(),  # the written value of a field defect; null for row defects
    }
)

MANIFEST_SCHEMA = pl.Schema(
    {
        "round": pl.Date(),
        "unit": pl.String(),
        "file": pl.String(),
        "container": pl.String(),  # xlsx | csv
        "sheet": pl.String(),  # data sheet name (xlsx)
        "sheet_index": pl.Int8(),  # 0-based position of the data sheet (xlsx)
        "title_rows": pl.Int8(),
        "header_row": pl.Int32(),  # row/line number of the header
        "trailing_empty_rows": pl.Int8(),
        "encoding": pl.String(),  # csv: cp1252 | utf-8 | utf-8-sig
        "delimiter": pl.String(),
        "newline": pl.String(),  # "CRLF" | "LF"
        "header_style": pl.String(),
        "multi_layout": pl.String(),
        "list_separator": pl.String(),
        "chosen_mark": pl.String(),
        "not_chosen_mark": pl.String(),
        "value_style": pl.String(),
        "value_case": pl.String(),
        "date_style": pl.String(),
        "vet_ej": pl.Boolean(),  # "Vet ej" written for the option "Vet inte"
        "risk_header": pl.String(),
        "instrument_style": pl.String(),
        "comment_header": pl.String(),
        "comment_columns": pl.Int8(),
        "local_variable": pl.Boolean(),
        "column_order": pl.String(),
        "rows_written": pl.Int32(),  # non-empty data rows
        "valid_rows": pl.Int32(),  # rows that are snapshot cases
    }
)

ROW_DEFECTS = ("case_key_missing", "duplicate_case_key", "age_under_18", "opened_outside_period")
FIELD_DEFECTS = (
    "unknown_value",
    "invalid_date",
    "closing_date_before_opening",
    "closing_date_after_submission",
    "age_not_a_number",
    "age_above_110",
    "risk_rating_out_of_range",
)

HEADER_STYLES = ("label", "label_suv", "V", "v", "paren", "ascii", "ascii_suv", "upper", "lower", "mixed")
MULTI_LAYOUTS = ("option_label", "option_code", "list_codes", "list_labels", "mixed")
CHOSEN_MARKS = ("1", "X", "x", "Ja", "TRUE", "Sant")
NOT_CHOSEN_MARKS = ("0", "Nej", "", "FALSE")
VALUE_STYLES = ("code", "label", "dot", "dash", "space")
VALUE_CASES = ("as_is", "upper", "lower")
DATE_STYLES = ("iso", "iso_datetime", "compact", "excel_cell", "excel_serial", "mixed")
EXCEL_ONLY_DATE_STYLES = ("excel_cell", "excel_serial", "mixed")
CSV_DIALECTS = (  # (delimiter, encoding)
    (";", "cp1252"),
    (";", "utf-8"),
    (";", "utf-8-sig"),
    (",", "utf-8-sig"),
    (",", "utf-8"),
    ("\t", "utf-8"),
    ("\t", "utf-8-sig"),
)
LOCAL_VARIABLE = "Lokal: Tolk behövs"

COMMENT_TEXTS = (
    "Klienten önskar kontakt via sms; inte brev.",
    "Oklart, återkommer efter samtal med jouren.",
    "Bor tillfälligt hos anhörig.\nNy adress är inte klar.",
    'Uppgav "vet inte" vid första samtalet.',
    "Kontakt med polis, kvinnojour; samt vården.",
    "Se anteckning 2022-05-03, samt\r\nuppföljning efter sommaren.",
    "Tolk behövs\tvid alla samtal.",
    "Avbröt kontakten, flyttade till annan ort.",
    "Stödet pågår – ny bedömning i höst.",
)

# Unit habits that together cover every variant of the contract. The units of a demo
# set are ranked by a hash of (seed, slug); the first len(COVERAGE_PROFILES) ranks get
# these, the rest get random habits. Unset keys are drawn at random.
COVERAGE_PROFILES: tuple[dict[str, Any], ...] = (
    dict(
        container="xlsx",
        sheet="Blad1",
        sheet_index=0,
        title_rows=2,
        trailing_empty_rows=3,
        header_style="label_suv",
        multi_layout="option_label",
        chosen_mark="X",
        not_chosen_mark="",
        value_style="dot",
        value_case="as_is",
        date_style="excel_cell",
        risk_header="plain",
        instrument_style="code",
        comment_header="dash",
        local_variable=True,
        column_order="standard",
    ),
    dict(
        container="xlsx",
        sheet="Export",
        sheet_index=1,
        title_rows=0,
        trailing_empty_rows=0,
        header_style="V",
        multi_layout="option_code",
        chosen_mark="1",
        not_chosen_mark="0",
        value_style="code",
        date_style="excel_serial",
        risk_header="suv",
        instrument_style="label",
        comment_header="nr",
    ),
    dict(
        container="xlsx",
        sheet="Data",
        sheet_index=2,
        title_rows=5,
        trailing_empty_rows=1,
        header_style="ascii",
        multi_layout="list_labels",
        list_separator=";",
        value_style="label",
        vet_ej=True,
        date_style="iso_datetime",
        column_order="shuffled",
    ),
    dict(
        container="csv",
        delimiter=";",
        encoding="cp1252",
        newline="\r\n",
        header_style="label",
        multi_layout="mixed",
        chosen_mark="Ja",
        not_chosen_mark="Nej",
        list_separator=",",
        value_style="dash",
        date_style="iso",
        comment_header="nr",
        local_variable=True,
        column_order="shuffled",
    ),
    dict(
        container="csv",
        delimiter=",",
        encoding="utf-8-sig",
        newline="\n",
        header_style="v",
        multi_layout="list_codes",
        list_separator=",",
        value_style="space",
        date_style="compact",
    ),
    dict(
        container="csv",
        delimiter="\t",
        encoding="utf-8",
        newline="\r\n",
        header_style="paren",
        multi_layout="option_label",
        chosen_mark="x",
        not_chosen_mark="",
        value_style="label",
        value_case="lower",
        date_style="iso",
    ),
    dict(
        container="csv",
        delimiter=";",
        encoding="utf-8",
        newline="\n",
        header_style="lower",
        multi_layout="option_code",
        chosen_mark="TRUE",
        not_chosen_mark="FALSE",
        value_style="label",
        value_case="upper",
        date_style="iso_datetime",
        risk_header="suv",
    ),
    dict(
        container="xlsx",
        sheet="Sheet1",
        sheet_index=0,
        title_rows=1,
        trailing_empty_rows=2,
        header_style="upper",
        multi_layout="mixed",
        chosen_mark="Sant",
        not_chosen_mark="",
        list_separator=";",
        value_style="dot",
        value_case="upper",
        date_style="mixed",
    ),
    dict(
        container="csv",
        delimiter=";",
        encoding="cp1252",
        newline="\n",
        header_style="mixed",
        multi_layout="list_labels",
        list_separator=";",
        value_style="code",
        vet_ej=True,
        date_style="compact",
        instrument_style="label",
        local_variable=True,
    ),
    dict(
        container="xlsx",
        sheet="Blad1",
        sheet_index=0,
        title_rows=3,
        header_style="label",
        multi_layout="option_label",
        chosen_mark="1",
        not_chosen_mark="",
        value_style="space",
        date_style="iso",
        comment_header="nr",
    ),
    dict(
        container="xlsx",
        sheet="Export",
        sheet_index=0,
        title_rows=4,
        header_style="ascii_suv",
        multi_layout="list_codes",
        list_separator=";",
        value_style="label",
        vet_ej=True,
        date_style="excel_cell",
        column_order="shuffled",
    ),
    dict(
        container="csv",
        delimiter=",",
        encoding="utf-8",
        newline="\r\n",
        header_style="label_suv",
        multi_layout="mixed",
        chosen_mark="X",
        not_chosen_mark="",
        list_separator=";",
        value_style="dash",
        value_case="lower",
        date_style="iso",
    ),
)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ExportSettings:
    """How the demo exports are written.

    ``defect_rate`` is the chance per case (and per defect kind) that a case gets that
    defect, if it is eligible (a field defect needs a missing canonical value). At
    least ``min_defects_per_kind`` of every kind are injected per round whenever an
    eligible case exists. ``period_start`` is the first day of the follow-up period:
    the "opened before the period" rows are dated before it.
    """

    seed: int = DEMO_SEED
    defect_rate: float = 0.01
    min_defects_per_kind: int = 1
    period_start: date = PERIOD_START
    ensure_coverage: bool = True  # give the first units the COVERAGE_PROFILES habits
    # share of the units (coverage profiles aside) that export xlsx; None: an even draw.
    # Reading and cleaning cost differ by container, so benchmarks weight them.
    xlsx_share: float | None = None


@dataclass(frozen=True)
class UnitFormat:
    """One unit's export habits (stable across rounds for the same seed and slug)."""

    container: str  # xlsx | csv
    sheet: str  # xlsx: name of the data sheet
    sheet_index: int  # xlsx: 0-based position of the data sheet (>0: not the first sheet)
    title_rows: int  # xlsx: title rows above the header (0-5)
    trailing_empty_rows: int  # xlsx: formatted, empty rows after the data
    delimiter: str  # csv
    encoding: str  # csv: cp1252 | utf-8 | utf-8-sig
    newline: str  # csv: "\r\n" | "\n"
    header_style: str  # one of HEADER_STYLES
    multi_layout: str  # one of MULTI_LAYOUTS (the file's summary)
    multi_layouts: tuple[tuple[str, str], ...]  # (variable, layout) per multi variable
    list_separator: str  # ";" | ","
    chosen_mark: str
    not_chosen_mark: str
    value_style: str  # one of VALUE_STYLES
    value_case: str  # one of VALUE_CASES
    vet_ej: bool  # writes "Vet ej" for the option "Vet inte"
    date_style: str  # one of DATE_STYLES
    risk_header: str  # plain ("Skattning risk 1 datum") | suv ("Skattning risk (90) 1 datum")
    instrument_style: str  # code | label
    comment_header: str  # dash ("<label> – Kommentar") | nr ("Kommentar (<nr>)")
    comment_variables: tuple[str, ...]
    local_variable: bool
    column_order: str  # standard | shuffled
    file_name: str  # pattern with {kommun} {slug} {date} {compact}


# --------------------------------------------------------------------------- hashing


def hash_int(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _uniform(*parts: object) -> float:
    return hash_int(*parts) / 2**64


def _rng(*parts: object) -> random.Random:
    return random.Random(hash_int(*parts))


# --------------------------------------------------------------------------- formats

XLSX_NAMES = (
    "SUreg export {kommun} {date}.xlsx",
    "Export_{slug}_{compact}.xlsx",
    "{kommun} SU-Kvinnofrid.xlsx",
    "uppfoljning vald {kommun}.xlsx",
)
CSV_NAMES = (
    "vald_{slug_}.csv",
    "SUreg_{kommun}_{compact}.csv",
    "export {date} {kommun}.csv",
    "{slug}.csv",
)


def _random_format(slug: str, settings: ExportSettings, profile: Mapping[str, Any]) -> UnitFormat:
    """A unit's habits drawn from (seed, slug); ``profile`` overrides the draws it sets."""
    cb = cbm.load()
    r = _rng(settings.seed, "format", slug)
    container = r.choice(("xlsx", "csv"))
    delimiter, encoding = r.choice(CSV_DIALECTS)
    draws: dict[str, Any] = dict(
        container=container,
        sheet=r.choice(("Blad1", "Sheet1", "Export", "Data")),
        sheet_index=r.choice((0, 0, 0, 1)),
        title_rows=r.choice((0, 0, 1, 2, 3, 4, 5)),
        trailing_empty_rows=r.choice((0, 0, 1, 2, 4)),
        delimiter=delimiter,
        encoding=encoding,
        newline=r.choice(("\r\n", "\n")),
        header_style=r.choice(HEADER_STYLES),
        multi_layout=r.choice(MULTI_LAYOUTS),
        list_separator=r.choice((";", ",")),
        chosen_mark=r.choice(CHOSEN_MARKS),
        not_chosen_mark=r.choice(NOT_CHOSEN_MARKS),
        value_style=r.choice(VALUE_STYLES),
        value_case=r.choice(("as_is", "as_is", "upper", "lower")),
        vet_ej=r.random() < 0.3,
        date_style=r.choice(DATE_STYLES),
        risk_header=r.choice(("plain", "plain", "suv")),
        instrument_style=r.choice(("code", "label")),
        comment_header=r.choice(("dash", "nr")),
        local_variable=r.random() < 0.3,
        column_order=r.choice(("standard", "standard", "shuffled")),
    )
    commented = [v.name for v in cb.variables if v.comment]
    n_comments = r.choice((0, 1, 2, 3))
    comment_variables = tuple(sorted(r.sample(commented, n_comments), key=commented.index))
    per_variable = [(v.name, r.choice(("option", "list"))) for v in cb.of_kind("multi")]
    name_index = r.randrange(4)
    if settings.xlsx_share is not None:  # a draw of its own: the other habits stay as they were
        draws["container"] = "xlsx" if _rng(settings.seed, "container", slug).random() < settings.xlsx_share else "csv"
    draws.update(profile)
    # coverage profiles always carry comment columns (with delimiters and line breaks)
    draws["comment_variables"] = (comment_variables or tuple(commented[:2])) if profile else comment_variables
    draws.update(_container_settings(draws))
    draws["multi_layouts"] = _multi_layouts(draws["multi_layout"], per_variable)
    names = XLSX_NAMES if draws["container"] == "xlsx" else CSV_NAMES
    draws["file_name"] = draws.get("file_name") or names[name_index]
    return UnitFormat(**draws)


def _container_settings(draws: Mapping[str, Any]) -> dict[str, Any]:
    """Blank the settings the container does not have; keep the rest consistent."""
    if draws["container"] == "csv":
        out: dict[str, Any] = dict(sheet="", sheet_index=0, title_rows=0, trailing_empty_rows=0)
        if draws["date_style"] in EXCEL_ONLY_DATE_STYLES:
            out["date_style"] = "iso"
        return out
    out = dict(delimiter="", encoding="", newline="")
    if draws["sheet"] not in ("Export", "Data"):
        out["sheet_index"] = 0  # only a sheet named Export/Data may hide behind others
    return out


def _multi_layouts(layout: str, per_variable: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """(variable, layout) per multi variable; "mixed" uses both kinds at least once."""
    if layout != "mixed":
        return tuple((name, layout) for name, _ in per_variable)
    per_variable = list(per_variable)
    kinds = [k for _, k in per_variable]
    if "option" not in kinds:
        per_variable[0] = (per_variable[0][0], "option")
    if "list" not in kinds:
        per_variable[-1] = (per_variable[-1][0], "list")
    return tuple((name, "option_label" if k == "option" else "list_codes") for name, k in per_variable)


def assign_formats(units: Iterable[str], settings: ExportSettings) -> dict[str, UnitFormat]:
    """Each unit's export habits, from its slug and the seed.

    Units are ranked by a hash of (seed, slug); with ``settings.ensure_coverage`` the
    first ``len(COVERAGE_PROFILES)`` ranks get the coverage profiles (so a demo set of at
    least that many units shows every variant of the contract) and the others random
    habits drawn from a generator seeded by (seed, slug). Pass the same unit list for
    every round (``write_demo`` uses the union of all rounds) to keep habits stable.
    """
    ranked = sorted(set(units), key=lambda s: (hash_int(settings.seed, "rank", s), s))
    formats = {}
    for i, slug in enumerate(ranked):
        profile = COVERAGE_PROFILES[i] if settings.ensure_coverage and i < len(COVERAGE_PROFILES) else {}
        formats[slug] = _random_format(slug, settings, profile)
    return formats


# --------------------------------------------------------------------------- cell rendering

_ASCII = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "A", "Ä": "A", "Ö": "O", "–": "-", "é": "e"})
_EXCEL_EPOCH = date(1899, 12, 30)


def ascii_spelling(text: str) -> str:
    return text.translate(_ASCII)


def excel_serial(d: date) -> int:
    return (d - _EXCEL_EPOCH).days


def _case(text: str, how: str) -> str:
    return text.upper() if how == "upper" else text.lower() if how == "lower" else text


def _label_header(text: str, style: str) -> str:
    """Apply a header style's spelling (case/ASCII) to a header that is not a SUV form."""
    if style in ("ascii", "ascii_suv"):
        return ascii_spelling(text)
    if style in ("upper", "lower"):
        return _case(text, style)
    return text


def _variable_header(var: cbm.Variable, style: str) -> str:
    return {
        "label": var.label,
        "label_suv": f"{var.label} ({var.suv})",
        "V": f"V{var.suv}",
        "v": f"v{var.suv}",
        "paren": f"({var.suv})",
        "ascii": ascii_spelling(var.label),
        "ascii_suv": f"{ascii_spelling(var.label)} ({var.suv})",
        "upper": var.label.upper(),
        "lower": var.label.lower(),
    }[style]


def _spelt_label(var: cbm.Variable, code: int, fmt: UnitFormat) -> str:
    """An option's label as the unit spells it ("Vet ej", upper or lower case)."""
    label = var.label_of(code)
    if fmt.vet_ej and cbm.normalise(label) == "vet inte":
        label = "Vet ej"
    return _case(label, fmt.value_case)


def single_value(var: cbm.Variable, code: int, fmt: UnitFormat) -> str | int:
    label = _spelt_label(var, code, fmt)
    style = fmt.value_style
    if style == "code":
        return code if fmt.container == "xlsx" else str(code)
    if style == "label":
        return label
    if style == "dot":
        return f"{code}. {label}"
    if style == "dash":
        return f"{code} - {label}"
    return f"{code} {label}"


def _date_value(d: date, style: str, r: random.Random) -> str | int | date:
    if style == "mixed":
        style = r.choice(("iso", "iso_datetime", "compact", "excel_cell", "excel_serial"))
    if style == "iso":
        return d.isoformat()
    if style == "iso_datetime":
        return f"{d.isoformat()} 00:00:00"
    if style == "compact":
        return d.strftime("%Y%m%d")
    if style == "excel_cell":
        return d
    return excel_serial(d)


def _age_value(age: int, r: random.Random, container: str) -> str | int:
    form = r.random()
    if form < 0.70:
        return age if container == "xlsx" and r.random() < 0.5 else str(age)
    kind = r.choice(("space", "ar", "ca", "cirka", "question", "range"))
    if kind == "space":
        return f" {age} "
    if kind == "ar":
        return f"{age} år"
    if kind == "ca":
        return f"ca {age}"
    if kind == "cirka":
        return f"cirka {age}"
    if kind == "question":
        return f"{age}?"
    k = r.randint(1, 3)
    low, high = age - k, age + k + r.randint(0, 1)
    assert (low + high) // 2 == age
    return f"{low}-{high}"


def list_token(var: cbm.Variable, code: int, fmt: UnitFormat, layout: str) -> str:
    if layout == "list_codes":
        return str(code)
    label = var.label_of(code)
    if "," in label or ";" in label:
        return str(code)  # a label with a separator in it cannot be listed unambiguously
    return _spelt_label(var, code, fmt)


def unknown_label(var: cbm.Variable, r: random.Random) -> str:
    """A misspelt label ("Kvinan") or an unused code ("9") that matches no option."""
    known = {cbm.normalise(o.label) for o in var.options} | {"vet ej", "vet inte"}
    if r.random() < 0.5:
        label = r.choice(var.labels)
        if len(label) >= 4:
            i = len(label) - 3
            typo = label[:i] + label[i + 1] + label[i] + label[i + 2 :]
            if cbm.normalise(typo) not in known and not typo[:1].isdigit():
                return typo
    code = 9
    while code in var.codes:
        code += 10
    return str(code)


# --------------------------------------------------------------------------- defect planning


@dataclass
class _FieldDefect:
    variable: str  # codebook name, or "risk_<k>_rating"
    rule: str
    value: str | date  # a date is written in the file's date style


@dataclass(frozen=True)
class _ExtraRow:
    case: dict[str, Any]  # a rejected row has no risk assessments
    opened_text: str | None = None  # an invalid opening date written as text


def _case_key(unit: str, case: Mapping[str, Any]) -> tuple:
    return (unit, case["client"], case["opened"])


def _plan_defects(
    cases: list[dict[str, Any]],
    risk: Mapping[tuple, dict[int, tuple]],
    round_date: date,
    settings: ExportSettings,
) -> tuple[dict[tuple, list[_FieldDefect]], dict[str, list[tuple[tuple, str]]]]:
    """Choose the defects of a round: field defects by case key, row defects by unit
    (as (template case key, rule)). Cases are chosen by a hash of their key, so a case
    keeps its defects from round to round while still eligible. The field defects are
    planned in a fixed order: a field carries at most one, the first that claims it."""
    plan = _FieldPlan({_case_key(c["unit"], c): c for c in cases})
    _plan_unknown_values(plan, settings)
    _plan_date_defects(plan, round_date, settings)
    _plan_age_defects(plan, settings)
    _plan_risk_rating_defects(plan, risk, settings)
    return plan.defects, _plan_row_defects(list(plan.cases), settings)


@dataclass
class _FieldPlan:
    """The field defects chosen so far, by case key."""

    cases: dict[tuple, dict[str, Any]]  # case key -> canonical case, in case order
    defects: dict[tuple, list[_FieldDefect]] = field(default_factory=dict)

    def add(self, key: tuple, variable: str, rule: str, value: str | date) -> None:
        self.defects.setdefault(key, []).append(_FieldDefect(variable, rule, value))

    def open_fields(self, key: tuple, names: Sequence[str]) -> list[str]:
        """The names whose canonical value is missing and that carry no defect yet."""
        case = self.cases[key]
        taken = {d.variable for d in self.defects.get(key, [])}
        return [n for n in names if case.get(n) is None and n not in taken]

    def eligible(self, names: Sequence[str]) -> list[tuple]:
        return [k for k in self.cases if self.open_fields(k, names)]


def _choose(kind: str, eligible: list[tuple], settings: ExportSettings) -> list[tuple]:
    """The eligible keys whose hash falls under the defect rate, at least
    ``min_defects_per_kind`` of them (the lowest hashes)."""
    scored = sorted((_uniform(settings.seed, "defect", kind, *k), k) for k in eligible)
    chosen = [k for s, k in scored if s < settings.defect_rate]
    if len(chosen) < settings.min_defects_per_kind:
        chosen = [k for _, k in scored[: settings.min_defects_per_kind]]
    return chosen


def _plan_unknown_values(plan: _FieldPlan, settings: ExportSettings) -> None:
    """unknown_value: one missing single-choice field gets a label matching no option."""
    cb = cbm.load()
    singles = [v.name for v in cb.of_kind("single") if v.name != "service_type"]
    for key in _choose("unknown_value", plan.eligible(singles), settings):
        r = _rng(settings.seed, "unknown_value", *key)
        name = r.choice(plan.open_fields(key, singles))
        plan.add(key, name, "unknown_value", unknown_label(cb[name], r))


def _plan_date_defects(plan: _FieldPlan, round_date: date, settings: ExportSettings) -> None:
    """Unreadable dates, and closing dates before the opening or after the submission."""
    seed = settings.seed
    for key in _choose("invalid_date", plan.eligible(["closed", "support_started"]), settings):
        r = _rng(seed, "invalid_date", *key)
        name = r.choice(plan.open_fields(key, ["closed", "support_started"]))
        plan.add(key, name, "invalid_date", r.choice(("2022-13-45", "5/3-22", "2023-02-30", "31.12.2022", "ej klart")))
    for key in _choose("closing_date_before_opening", plan.eligible(["closed"]), settings):
        r = _rng(seed, "closing_date_before_opening", *key)
        opened = plan.cases[key]["opened"]
        plan.add(key, "closed", "closing_date_before_opening", opened - timedelta(days=r.randint(1, 60)))
    for key in _choose("closing_date_after_submission", plan.eligible(["closed"]), settings):
        r = _rng(seed, "closing_date_after_submission", *key)
        plan.add(key, "closed", "closing_date_after_submission", round_date + timedelta(days=r.randint(1, 90)))


def _plan_age_defects(plan: _FieldPlan, settings: ExportSettings) -> None:
    """Ages that are no number, and ages above 110."""
    for key in _choose("age_not_a_number", plan.eligible(["age"]), settings):
        r = _rng(settings.seed, "age_not_a_number", *key)
        plan.add(key, "age", "age_not_a_number", r.choice(("fyrtio", "okänd", "medelålders", "??")))
    for key in _choose("age_above_110", plan.eligible(["age"]), settings):
        r = _rng(settings.seed, "age_above_110", *key)
        plan.add(key, "age", "age_above_110", r.choice(("130", "150", "999", "111")))


def _plan_risk_rating_defects(
    plan: _FieldPlan, risk: Mapping[tuple, dict[int, tuple]], settings: ExportSettings
) -> None:
    """Ratings out of range: only where an assessment has an instrument but no rating."""
    risk_slots = [
        (key, pos)
        for key in plan.cases
        for pos, (_d, instrument, rating) in sorted(risk.get(key, {}).items())
        if instrument is not None and rating is None
    ]
    chosen_slots = set(_choose("risk_rating_out_of_range", [(*k, p) for k, p in risk_slots], settings))
    for key, pos in risk_slots:
        if (*key, pos) in chosen_slots:
            r = _rng(settings.seed, "risk_rating_out_of_range", *key, pos)
            plan.add(key, f"risk_{pos}_rating", "risk_rating_out_of_range", r.choice(("0", "11", "15", "-1")))


def _plan_row_defects(keys: list[tuple], settings: ExportSettings) -> dict[str, list[tuple[tuple, str]]]:
    """Rejected extra rows by unit, as (template case key, rule)."""
    rows: dict[str, list[tuple[tuple, str]]] = {}
    for kind in ROW_DEFECTS:
        for key in _choose(kind, keys, settings):
            rows.setdefault(key[0], []).append((key, kind))
    return rows


def _extra_row(
    key: tuple, rule: str, case: dict[str, Any], used_keys: set[tuple], settings: ExportSettings
) -> _ExtraRow:
    """A rejected row built from a valid case (the template); ``used_keys`` holds the
    unit's (client, opened) keys so that a new row never duplicates one by accident."""
    r = _rng(settings.seed, "extra", rule, *key)
    new = dict(case)
    if rule == "case_key_missing":
        if r.random() < 0.7:
            new["client"] = r.choice(("", " "))
            return _ExtraRow(new)
        return _ExtraRow(new, opened_text=r.choice(("2022-02-30", "", "okänt")))
    if rule == "duplicate_case_key":
        age = new.get("age")
        new["age"] = 40 if age is None else (age - 1 if age >= 100 else age + 1)
        new["handler"] = f"{case.get('handler') or 'H'}2"
        return _ExtraRow(new)
    if rule == "age_under_18":  # a new client (a child registered by mistake)
        client = f"{case['client']}-{r.choice('ABCDEFGH')}"
        while (client, case["opened"]) in used_keys:
            client += "x"
        new["client"] = client
        new["age"] = r.randint(14, 17)
    else:  # opened_outside_period: the same client's earlier case, all dates shifted back
        opened = settings.period_start - timedelta(days=r.randint(15, 75))
        while (case["client"], opened) in used_keys:
            opened -= timedelta(days=1)
        shift = opened - case["opened"]
        for name in ("opened", "support_started", "closed"):
            if new.get(name) is not None:
                new[name] = new[name] + shift
    return _ExtraRow(new)


# --------------------------------------------------------------------------- columns


@dataclass
class _Row:
    case: dict[str, Any]
    risk: dict[int, tuple]
    defects: dict[str, _FieldDefect]
    seed: tuple  # hash parts of the row; each column draws from its own generator
    opened_text: str | None = None
    _rngs: dict[str, random.Random] = field(default_factory=dict)

    def rng(self, column: str) -> random.Random:
        """The row's generator for one column: a cell's spelling does not depend on
        the other columns, so a case keeps it from round to round."""
        if column not in self._rngs:
            self._rngs[column] = _rng(*self.seed, column)
        return self._rngs[column]


@dataclass
class _Column:
    header: str
    cell: Callable[[_Row], Any]
    variable: str | None = None  # codebook name (or risk_<k>_<field>) for the defect log
    block: str = ""


# A cell maker returns the function that writes one column's cell of a row.


def _date_cell(fmt: UnitFormat, name: str) -> Callable[[_Row], Any]:
    def cell(row: _Row) -> Any:
        if name == "opened" and row.opened_text is not None:
            return row.opened_text
        if name in row.defects:
            value = row.defects[name].value
            return _date_value(value, fmt.date_style, row.rng(name)) if isinstance(value, date) else value
        d = row.case.get(name)
        return None if d is None else _date_value(d, fmt.date_style, row.rng(name))

    return cell


def _single_cell(fmt: UnitFormat, var: cbm.Variable) -> Callable[[_Row], Any]:
    def cell(row: _Row) -> Any:
        if var.name in row.defects:
            return row.defects[var.name].value
        code = row.case.get(var.name)
        return None if code is None else single_value(var, code, fmt)

    return cell


def _text_cell(name: str) -> Callable[[_Row], Any]:
    return lambda row: row.case.get(name)


def _age_cell(fmt: UnitFormat) -> Callable[[_Row], Any]:
    def cell(row: _Row) -> Any:
        if "age" in row.defects:
            return row.defects["age"].value
        age = row.case.get("age")
        return None if age is None else _age_value(age, row.rng("age"), fmt.container)

    return cell


def _option_cell(fmt: UnitFormat, var: cbm.Variable, code: int) -> Callable[[_Row], Any]:
    """One option's column of a multi variable: the chosen / not-chosen mark."""

    def cell(row: _Row) -> Any:
        codes = row.case.get(var.name) or []
        if not codes:
            return None
        mark = fmt.chosen_mark if code in codes else fmt.not_chosen_mark
        if fmt.container == "xlsx" and mark in ("0", "1"):
            return int(mark)
        return mark or None

    return cell


def _list_cell(fmt: UnitFormat, var: cbm.Variable, layout: str) -> Callable[[_Row], Any]:
    """A multi variable in one column: the chosen options as a list."""
    sep = fmt.list_separator + ("" if layout == "list_codes" else " ")

    def cell(row: _Row) -> Any:
        codes = row.case.get(var.name) or []
        return sep.join(list_token(var, c, fmt, layout) for c in codes) or None

    return cell


def _comment_cell(name: str) -> Callable[[_Row], Any]:
    def cell(row: _Row) -> Any:
        r = row.rng(f"comment_{name}")
        return r.choice(COMMENT_TEXTS) if r.random() < 0.12 else None

    return cell


def _local_cell(row: _Row) -> Any:
    x = row.rng("local").random()
    return "Ja" if x < 0.15 else "Nej" if x < 0.6 else None


def _risk_cell(fmt: UnitFormat, var: cbm.Variable, k: int, part: str) -> Callable[[_Row], Any]:
    """The date, instrument or rating of the row's k-th risk assessment."""

    def cell(row: _Row) -> Any:
        assessment = row.risk.get(k)
        if assessment is None:
            return None
        d, instrument, rating = assessment
        if part == "date":
            return None if d is None else _date_value(d, fmt.date_style, row.rng(f"risk_{k}_date"))
        if part == "instrument":
            if instrument is None:
                return None
            if fmt.instrument_style == "label":
                return var.label_of(instrument)
            return instrument if fmt.container == "xlsx" else str(instrument)
        defect = row.defects.get(f"risk_{k}_rating")
        if defect is not None:
            return defect.value
        if rating is None:
            return None
        return rating if fmt.container == "xlsx" else str(rating)

    return cell


def export_columns(fmt: UnitFormat, n_risk: int, unit: str, settings: ExportSettings) -> list[_Column]:
    """The file's columns in codebook order (or shuffled by block), each with its header.
    A "mixed" header style draws each variable's style in codebook order."""
    hr = _rng(settings.seed, "headers", unit)
    style_choices = [s for s in HEADER_STYLES if s != "mixed"]

    def style() -> str:
        return hr.choice(style_choices) if fmt.header_style == "mixed" else fmt.header_style

    columns: list[_Column] = []
    for var in cbm.load().variables:
        if var.kind == "repeated":
            columns.extend(_risk_columns(fmt, var, n_risk, style))
            continue
        s = style()
        columns.extend(_variable_columns(fmt, var, s))
        if var.name in fmt.comment_variables:
            columns.append(_comment_column(fmt, var, s))
    if fmt.local_variable:
        columns.append(_Column(_label_header(LOCAL_VARIABLE, fmt.header_style), _local_cell, None, "local"))
    if fmt.column_order == "shuffled":
        order = {c.block: hash_int(settings.seed, "order", unit, c.block) for c in columns}
        columns.sort(key=lambda c: order[c.block])  # stable: a block's columns stay together
    return columns


def _risk_columns(fmt: UnitFormat, var: cbm.Variable, n_risk: int, style: Callable[[], str]) -> list[_Column]:
    """Date, instrument and rating of each of the n_risk assessment groups."""
    words = var.extra["fields"]
    prefix = var.extra["group_prefix"] + (f" ({var.suv})" if fmt.risk_header == "suv" else "")
    columns = []
    for k in range(1, n_risk + 1):
        for part in ("date", "instrument", "rating"):
            header = _label_header(f"{prefix} {k} {words[part]}", style())
            columns.append(_Column(header, _risk_cell(fmt, var, k, part), f"risk_{k}_{part}", f"risk{k}"))
    return columns


def _variable_columns(fmt: UnitFormat, var: cbm.Variable, style: str) -> list[_Column]:
    """A variable's column, or one column per option (multi variables, option layouts)."""
    header = _variable_header(var, style)
    if var.kind == "multi":
        layout = dict(fmt.multi_layouts)[var.name]
        if layout not in ("option_label", "option_code"):
            return [_Column(header, _list_cell(fmt, var, layout), var.name, var.name)]
        return [
            _Column(
                f"{var.suv}_{o.code}"
                if layout == "option_code"
                else _label_header(f"{var.label} ({var.suv}): {o.label}", style),
                _option_cell(fmt, var, o.code),
                var.name,
                var.name,
            )
            for o in var.options
        ]
    if var.kind == "single":
        cell = _single_cell(fmt, var)
    elif var.kind == "date":
        cell = _date_cell(fmt, var.name)
    elif var.kind == "integer":
        cell = _age_cell(fmt)
    else:  # text: municipality, and the personal handler, client, survey_suggestions
        cell = _text_cell(var.name)
    return [_Column(header, cell, var.name, var.name)]


def _comment_column(fmt: UnitFormat, var: cbm.Variable, style: str) -> _Column:
    """A free-text comment column after the variable (the pipeline counts, never keeps, its text)."""
    if fmt.comment_header == "dash":
        header = _label_header(f"{var.label} – Kommentar", style)
    else:
        header = f"Kommentar ({var.suv})"
    return _Column(header, _comment_cell(var.name), None, var.name)


# --------------------------------------------------------------------------- serialisation


def _title_lines(fmt: UnitFormat, round_date: date, municipality: str) -> list[str | None]:
    lines: list[str | None] = [
        "SUreg – export",
        f"Utskriftsdatum {round_date.isoformat()}",
        f"Enhet: {municipality}",
        "Urval: samtliga ärenden",
        None,  # an empty row between the titles and the header
    ]
    return lines[: fmt.title_rows]


def start_export_workbook(
    target: Any, options: dict[str, Any], fmt: UnitFormat, headers: list[str], round_date: date, municipality: str
):
    """A workbook as SUreg writes one, up to its header row: the properties, the filler
    sheets before the data sheet, the title lines and the headers. Returns the workbook,
    the data sheet, the date and blank-cell formats and the first data row. Shared by
    the demo writer and the national writer (demo.national_writer)."""
    workbook = xlsxwriter.Workbook(target, options)
    created = datetime(round_date.year, round_date.month, round_date.day)
    workbook.set_properties({"title": "SUreg – export", "author": "SUreg", "company": municipality, "created": created})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    bold = workbook.add_format({"bold": True})
    blank = workbook.add_format({"font_name": "Calibri", "font_size": 11})
    fillers = ["Instruktion", "Info"]
    for i in range(fmt.sheet_index):
        sheet = workbook.add_worksheet(fillers[i % len(fillers)] + ("" if i < 2 else str(i)))
        sheet.write_string(0, 0, "Exporten innehåller ärenden registrerade i SUreg.")
        sheet.write_string(1, 0, f"Utskriftsdatum {round_date.isoformat()}")
    sheet = workbook.add_worksheet(fmt.sheet)
    r = 0
    for line in _title_lines(fmt, round_date, municipality):
        if line is not None:
            sheet.write_string(r, 0, line, bold if r == 0 else None)
        r += 1
    for c, header in enumerate(headers):
        sheet.write_string(r, c, header, bold)
    return workbook, sheet, date_format, blank, r + 1


def _xlsx_bytes(
    fmt: UnitFormat,
    headers: list[str],
    rows: list[list[Any]],
    round_date: date,
    municipality: str,
) -> bytes:
    buffer = io.BytesIO()
    workbook, sheet, date_format, blank, r = start_export_workbook(
        buffer, {"in_memory": True}, fmt, headers, round_date, municipality
    )
    for values in rows:
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
        r += 1
    for _ in range(fmt.trailing_empty_rows):
        for c in range(len(headers)):
            sheet.write_blank(r, c, None, blank)
        r += 1
    workbook.close()
    return buffer.getvalue()


def _csv_text(fmt: UnitFormat, headers: list[str], rows: list[list[Any]]) -> tuple[str, list[int]]:
    """The file's text and the line number on which each data record starts."""

    def record(values: list[Any]) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=fmt.delimiter, lineterminator=fmt.newline, quoting=csv.QUOTE_MINIMAL).writerow(
            ["" if v is None else str(v) for v in values]
        )
        return out.getvalue()

    parts = [record(headers)]
    line = 1 + parts[0].count("\n")
    starts = []
    for values in rows:
        text = record(values)
        starts.append(line)
        line += text.count("\n")
        parts.append(text)
    return "".join(parts), starts


# --------------------------------------------------------------------------- rounds


@dataclass(frozen=True)
class RenderedRound:
    """A round's files in memory: ``files`` maps the path relative to the raw-data
    folder (``YYYY-MM-DD/<name>``) to the file's bytes."""

    round: date
    files: dict[str, bytes]
    defects: pl.DataFrame  # DEFECT_LOG_SCHEMA
    manifest: pl.DataFrame  # MANIFEST_SCHEMA


def export_file_name(fmt: UnitFormat, unit_row: Mapping[str, Any], round_date: date) -> str:
    kommun = str(unit_row.get("kommun") or unit_row.get("municipality") or unit_row["unit"])
    slug = str(unit_row["unit"])
    name = fmt.file_name.format(
        kommun=kommun,
        slug=slug,
        slug_=slug.replace("-", "_"),
        date=round_date.isoformat(),
        compact=round_date.strftime("%Y%m%d"),
    )
    return re.sub(r'[\\/:*?"<>|]', "-", name)


def _risk_by_case(risk: pl.DataFrame) -> dict[tuple, dict[int, tuple]]:
    out: dict[tuple, dict[int, tuple]] = {}
    for r in risk.sort(["unit", "client", "opened", "position"]).iter_rows(named=True):
        out.setdefault((r["unit"], r["client"], r["opened"]), {})[int(r["position"])] = (
            r["date"],
            r["instrument"],
            r["rating"],
        )
    return out


def render_round(
    snapshot: Any, settings: ExportSettings, *, formats: Mapping[str, UnitFormat] | None = None
) -> RenderedRound:
    """A round's export files in memory, with the defect log and format manifest.

    ``snapshot`` needs ``round`` (date), ``units``, ``cases`` and ``risk`` frames (see
    docs/stages.md). ``formats`` defaults to :func:`assign_formats` over this round's units.
    """
    round_date: date = snapshot.round
    folder = round_date.isoformat()
    units = snapshot.units.sort("unit")
    if formats is None:
        formats = assign_formats(units["unit"].to_list(), settings)
    cases = _snapshot_cases(snapshot.cases)
    risk = _risk_by_case(snapshot.risk) if snapshot.risk is not None and snapshot.risk.height else {}
    _check_snapshot(cases, risk, units["unit"].to_list())
    field_plan, row_plan = _plan_defects(cases, risk, round_date, settings)
    cases_by_unit: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        cases_by_unit.setdefault(case["unit"], []).append(case)

    files: dict[str, bytes] = {}
    defect_rows: list[dict[str, Any]] = []
    manifest_rows: list[dict[str, Any]] = []
    for unit_row in units.iter_rows(named=True):
        unit = unit_row["unit"]
        fmt = formats[unit]
        valid = cases_by_unit.get(unit, [])
        ordered = _unit_rows(unit, valid, risk, field_plan, row_plan.get(unit, []), folder, settings)
        n_risk = max([max(r.risk, default=0) for r, _ in ordered] + [1])
        columns = export_columns(fmt, min(n_risk, 10), unit, settings)
        table = [[c.cell(r) for c in columns] for r, _ in ordered]
        municipality = str(valid[0]["municipality"]) if valid else str(unit_row.get("municipality") or unit)
        relative = unique_path(files, folder, export_file_name(fmt, unit_row, round_date), unit)
        files[relative], header_row, row_numbers = _file_bytes(
            fmt, [c.header for c in columns], table, round_date, municipality, relative
        )
        defect_rows.extend(
            _defect_log_rows(ordered, columns, table, row_numbers, dict(round=round_date, unit=unit, file=relative))
        )
        manifest_rows.append(
            manifest_row(
                fmt,
                dict(round=round_date, unit=unit, file=relative),
                header_row,
                rows_written=len(table),
                valid_rows=len(valid),
            )
        )
    defects = pl.DataFrame(defect_rows, schema=DEFECT_LOG_SCHEMA).sort(["file", "row", "rule"])
    manifest = pl.DataFrame(manifest_rows, schema=MANIFEST_SCHEMA).sort("file")
    return RenderedRound(round_date, files, defects, manifest)


def _snapshot_cases(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The snapshot's cases as rows in file order (unit, opened, client; stable)."""
    case_columns = ["unit", "client", "handler", *cbm.case_schema().names()]
    if "survey_suggestions" in frame.columns:
        case_columns.append("survey_suggestions")
    return (
        frame.select(case_columns)
        .with_row_index("_order")
        .sort(["unit", "opened", "client", "_order"])
        .drop("_order")
        .to_dicts()
    )


def _check_snapshot(cases: list[dict[str, Any]], risk: Mapping[tuple, dict[int, tuple]], unit_names: list[str]) -> None:
    """A snapshot holds valid cases only: unique keys, known units, risk of its own cases."""
    keys = [_case_key(c["unit"], c) for c in cases]
    if len(set(keys)) != len(keys):
        raise ValueError(
            "snapshot.cases has duplicate (unit, client, opened) keys; the snapshot must hold valid cases only"
        )
    orphans = set(risk) - set(keys)
    if orphans:
        raise ValueError(
            f"snapshot.risk has {len(orphans)} case key(s) not in snapshot.cases, e.g. {sorted(orphans)[0][0]!r}"
        )
    unknown_units = {k[0] for k in keys} - set(unit_names)
    if unknown_units:
        raise ValueError(f"snapshot.cases has units missing from snapshot.units: {sorted(unknown_units)}")
    if any(max(groups) > 10 for groups in risk.values()):
        raise ValueError("snapshot.risk has positions above 10 (the export has at most 10 groups)")


def _unit_rows(
    unit: str,
    valid: list[dict[str, Any]],
    risk: Mapping[tuple, dict[int, tuple]],
    field_plan: Mapping[tuple, list[_FieldDefect]],
    row_defects: list[tuple[tuple, str]],
    folder: str,
    settings: ExportSettings,
) -> list[tuple[_Row, str | None]]:
    """The unit's rows in file order, each with its row-defect rule (None: a valid case).
    The rejected extra rows are placed among the valid ones; a duplicate after its original."""
    rows = [
        _Row(
            c,
            risk.get(_case_key(unit, c), {}),
            {d.variable: d for d in field_plan.get(_case_key(unit, c), [])},
            (settings.seed, "cells", *_case_key(unit, c)),
        )
        for c in valid
    ]
    index_of = {_case_key(unit, c): i for i, c in enumerate(valid)}
    used_keys = {(c["client"], c["opened"]) for c in valid}
    placement = _rng(settings.seed, "placement", unit, folder)
    buckets: list[list[tuple[_Row, str]]] = [[] for _ in range(len(rows) + 1)]
    for key, rule in row_defects:
        i = index_of[key]
        extra = _extra_row(key, rule, valid[i], used_keys, settings)
        used_keys.add((extra.case["client"], extra.case["opened"]))
        row = _Row(extra.case, {}, {}, (settings.seed, "cells", rule, *key), extra.opened_text)
        position = (
            placement.randint(i + 1, len(rows)) if rule == "duplicate_case_key" else placement.randint(0, len(rows))
        )
        buckets[position].append((row, rule))
    ordered: list[tuple[_Row, str | None]] = []
    for i in range(len(rows) + 1):
        ordered.extend(buckets[i])
        if i < len(rows):
            ordered.append((rows[i], None))
    return ordered


def unique_path(files: Mapping[str, bytes], folder: str, name: str, unit: str) -> str:
    """``folder/name``; when another unit's file has that name, the unit slug is added."""
    relative = f"{folder}/{name}"
    while relative in files:
        relative = f"{folder}/{Path(name).stem} ({unit}){Path(name).suffix}"
        name = Path(relative).name
    return relative


def _file_bytes(
    fmt: UnitFormat, headers: list[str], table: list[list[Any]], round_date: date, municipality: str, relative: str
) -> tuple[bytes, int, list[int]]:
    """The file's bytes, its header row and each data row's number as the unit sees it."""
    if fmt.container == "xlsx":
        header_row = fmt.title_rows + 1
        content = _xlsx_bytes(fmt, headers, table, round_date, municipality)
        return content, header_row, [header_row + 1 + i for i in range(len(table))]
    text, row_numbers = _csv_text(fmt, headers, table)
    try:
        return text.encode(fmt.encoding), 1, row_numbers
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{relative}: the text {error.object[error.start : error.end]!r} cannot be written in "
            f"{fmt.encoding}; keep simulated texts to characters Windows-1252 can hold"
        ) from None


def _defect_log_rows(
    ordered: list[tuple[_Row, str | None]],
    columns: list[_Column],
    table: list[list[Any]],
    row_numbers: list[int],
    file: dict[str, Any],
) -> list[dict[str, Any]]:
    """The file's defect-log rows (``file``: round, unit, file): one per extra row and
    one per field defect, with the value as written."""
    column_of: dict[str, str] = {}
    for c in columns:
        if c.variable is not None:
            column_of.setdefault(c.variable, c.header)
    position_of = {c.variable: i for i, c in reversed(list(enumerate(columns))) if c.variable}
    out = []
    for (row, rule), number, values in zip(ordered, row_numbers, table):
        base = dict(file, row=number)
        if rule is not None:
            out.append(dict(base, column=None, variable=None, rule=rule, value=None))
        for d in row.defects.values():
            written = values[position_of[d.variable]]
            out.append(
                dict(
                    base,
                    column=column_of[d.variable],
                    variable=d.variable,
                    rule=d.rule,
                    value=written.isoformat() if isinstance(written, date) else str(written),
                )
            )
    return out


def manifest_row(
    fmt: UnitFormat, file: dict[str, Any], header_row: int, *, rows_written: int, valid_rows: int
) -> dict[str, Any]:
    """The file's manifest row (``file``: round, unit, file)."""
    return dict(
        file,
        container=fmt.container,
        sheet=fmt.sheet or None,
        sheet_index=fmt.sheet_index,
        title_rows=fmt.title_rows,
        header_row=header_row,
        trailing_empty_rows=fmt.trailing_empty_rows,
        encoding=fmt.encoding or None,
        delimiter=fmt.delimiter or None,
        newline={"\r\n": "CRLF", "\n": "LF"}.get(fmt.newline),
        header_style=fmt.header_style,
        multi_layout=fmt.multi_layout,
        list_separator=fmt.list_separator,
        chosen_mark=fmt.chosen_mark,
        not_chosen_mark=fmt.not_chosen_mark,
        value_style=fmt.value_style,
        value_case=fmt.value_case,
        date_style=fmt.date_style,
        vet_ej=fmt.vet_ej,
        risk_header=fmt.risk_header,
        instrument_style=fmt.instrument_style,
        comment_header=fmt.comment_header,
        comment_columns=len(fmt.comment_variables),
        local_variable=fmt.local_variable,
        column_order=fmt.column_order,
        rows_written=rows_written,
        valid_rows=valid_rows,
    )


def write_round(
    snapshot: Any,
    folder: Path,
    settings: ExportSettings,
    *,
    formats: Mapping[str, UnitFormat] | None = None,
) -> list[Path]:
    """Write one file per unit into ``folder/<YYYY-MM-DD>/``; returns the paths written.

    Use :func:`render_round` (same arguments) for the defect log and manifest."""
    rendered = render_round(snapshot, settings, formats=formats)
    return _write_files(rendered, Path(folder))


def _write_files(rendered: RenderedRound, folder: Path) -> list[Path]:
    paths = []
    for relative, content in sorted(rendered.files.items()):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        paths.append(path)
    return paths


_ROUND_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def clear_previous_demo(folder: Path) -> None:
    """Remove the round folders of an earlier demo set; refuse to touch real data."""
    if not folder.exists():
        return
    rounds = [p for p in folder.iterdir() if p.is_dir() and _ROUND_DIR.match(p.name)]
    if not rounds:
        return
    marker = folder / MARKER_FILE
    if not marker.exists() or "demo: true" not in marker.read_text(encoding="utf-8"):
        raise FileExistsError(
            f"{folder} holds round folders but no {MARKER_FILE} marking them as demo data; "
            "refusing to overwrite what may be real exports. Choose an empty folder."
        )
    for path in rounds:
        shutil.rmtree(path)


def marker_text(snapshots: Sequence[Any], settings: ExportSettings) -> str:
    rounds = ", ".join(s.round.isoformat() for s in snapshots)
    return (
        "# SIMULATED DEMO DATA - not real cases.\n"
        "# Written by `kvinnofrid demo`; the pipeline reads this marker to allow its fixed\n"
        "# demo pseudonym key. Never put this file next to real exports.\n"
        "demo: true\n"
        "description: Simulated SU-Kvinnofrid exports (no real persons or cases)\n"
        "generator: kvinnofrid.demo.export_writer\n"
        f'generator_version: "{GENERATOR_VERSION}"\n'
        f'package_version: "{__version__}"\n'
        f"seed: {settings.seed}\n"
        f"rounds: [{rounds}]\n"
    )


def write_demo(snapshots: Sequence[Any], folder: Path, settings: ExportSettings) -> pl.DataFrame:
    """Write every round of the demo set and the marker ``folder/demodata.yaml``.

    Unit habits are assigned over the union of all rounds' units, so a unit exports the
    same way in every round. Earlier demo round folders are removed first (only when the
    marker says the folder holds demo data). Returns the defect log of all rounds
    (:data:`DEFECT_LOG_SCHEMA`); it is not written into ``folder``.
    """
    folder = Path(folder)
    all_units = sorted({u for s in snapshots for u in s.units["unit"].to_list()})
    formats = assign_formats(all_units, settings)
    clear_previous_demo(folder)
    folder.mkdir(parents=True, exist_ok=True)
    logs = []
    for snapshot in snapshots:
        rendered = render_round(snapshot, settings, formats=formats)
        _write_files(rendered, folder)
        logs.append(rendered.defects)
    (folder / MARKER_FILE).write_text(marker_text(snapshots, settings), encoding="utf-8", newline="\n")
    return pl.concat(logs) if logs else pl.DataFrame(schema=DEFECT_LOG_SCHEMA)
