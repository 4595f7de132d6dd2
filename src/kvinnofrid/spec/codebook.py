"""Typed access to the codebook (codebook.yaml), the single source of truth.

Everything that needs a variable's label, SUV number, options or the constants of a
derived variable asks this module; no other module spells them. The loader checks the
file's integrity (unique names, SUV numbers and codes, options where the kind needs
them) so a bad edit fails at once with a message naming the entry.

The canonical frames built from the codebook are the contracts between stages:

* ``case_schema()``: one row per case, one column per non-personal variable under its
  ``name``: single-choice -> Int8 code, multi-choice -> List(Int8) of chosen codes
  (null when none chosen), date -> Date, integer -> Int16, text -> String.
* ``risk_schema()``: the long table of repeated risk assessments.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import polars as pl
import yaml

KINDS = ("single", "multi", "date", "text", "integer", "repeated")


class CodebookError(ValueError):
    """The codebook file breaks one of its own rules."""


@dataclass(frozen=True)
class Option:
    """One answer option. ``label`` is the form's text (what exports carry and the
    tables key on); ``display`` what a reader sees in figures, report tables and text
    (the label without a form instruction such as "(ange i kommentar)"); ``phrase``
    the words the variable's ``clause`` puts in its ``{option}`` slot and ``clause``
    a whole clause of its own where the frame does not fit (see ``Variable.clause_of``);
    ``plural`` the plural noun for a reader ("kvinnor"), where the option names people."""

    code: int
    label: str
    project_added: bool = False
    display: str = ""
    phrase: str = ""
    clause: str = ""
    plural: str = ""

    @property
    def shown(self) -> str:
        """The label a reader sees: ``display``, else ``label``."""
        return self.display or self.label


@dataclass(frozen=True)
class Variable:
    name: str
    suv: int
    label: str
    kind: str
    phase: int
    section: str
    personal: bool = False
    comment: bool = False
    project_added: bool = False
    aliases: tuple[str, ...] = ()
    description: str = ""
    question: str = ""
    options: tuple[Option, ...] = ()
    clause: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def codes(self) -> list[int]:
        return [o.code for o in self.options]

    @property
    def labels(self) -> list[str]:
        return [o.label for o in self.options]

    def label_of(self, code: int) -> str:
        for o in self.options:
            if o.code == code:
                return o.label
        raise KeyError(f"{self.label} ({self.suv}) har inget svarsalternativ med kod {code}")

    def option(self, code: int) -> Option:
        for o in self.options:
            if o.code == code:
                return o
        raise KeyError(f"{self.label} ({self.suv}) har inget svarsalternativ med kod {code}")

    def clause_of(self, code: int) -> str:
        """The Swedish main clause saying that a case has option ``code`` ("våldet
        utövades av en förälder"): the option's own ``clause``, else the variable's
        ``clause`` frame with the option's ``phrase`` (default: its display label with
        a lower-case first letter) in the ``{option}`` slot."""
        o = self.option(code)
        if o.clause:
            return o.clause
        if not self.clause:
            raise KeyError(f"{self.label} ({self.suv}) har ingen satsmall (clause) för svarsalternativen")
        return self.clause.format(option=o.phrase or lower_first(o.shown))

    def code_of(self, label: str) -> int:
        wanted = normalise(label)
        for o in self.options:
            if normalise(o.label) == wanted:
                return o.code
        raise KeyError(f"{self.label} ({self.suv}) har inget svarsalternativ {label!r}")

    @property
    def is_coded(self) -> bool:
        return self.kind in ("single", "multi", "repeated")


def lower_first(text: str) -> str:
    """'Skyddat boende' -> 'skyddat boende'; an acronym ('FREDA …', 'SARA') is kept."""
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def normalise(text: str) -> str:
    """Compare form of a header or value: case, surrounding and repeated space,
    å/ä/ö versus a/a/o and en/em dashes versus hyphen do not matter."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    text = text.translate(str.maketrans({"å": "a", "ä": "a", "ö": "o", "–": "-", "—": "-"}))
    return re.sub(r"\s+", " ", text)


@dataclass(frozen=True)
class Codebook:
    variables: tuple[Variable, ...]
    phases: dict[int, str]
    value_synonyms: dict[str, str]
    chosen_values: tuple[str, ...]
    not_chosen_values: tuple[str, ...]
    derived: dict[str, Any]

    def __getitem__(self, name: str) -> Variable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(f"okänd variabel {name!r} i kodboken")

    def by_suv(self, suv: int) -> Variable:
        for v in self.variables:
            if v.suv == suv:
                return v
        raise KeyError(f"ingen variabel med SUV-nummer {suv} i kodboken")

    def of_kind(self, *kinds: str) -> list[Variable]:
        return [v for v in self.variables if v.kind in kinds]

    @property
    def personal(self) -> list[Variable]:
        return [v for v in self.variables if v.personal]

    @property
    def national(self) -> list[Variable]:
        """Variables that reach the compiled case table (not personal, not repeated)."""
        return [v for v in self.variables if not v.personal and v.kind != "repeated"]

    def display_labels(self) -> dict[str, str]:
        """Form label -> the label a reader sees, for the options whose ``display``
        differs (a form instruction left out). Applied wherever a table is shown."""
        return {o.label: o.display for v in self.variables for o in v.options if o.display and o.display != o.label}

    def age_group_labels(self) -> list[str]:
        return [g["label"] for g in self.derived["age_groups"]]

    def duration_bin_labels(self) -> list[str]:
        width = self.derived["duration_bin_days"]
        open_from = self.derived["duration_open_bin_from"]
        labels = [f"{lo}–{lo + width - 1}" for lo in range(1, open_from, width)]
        return [*labels, f"{open_from}–"]


def _dtype(var: Variable) -> pl.DataType:
    return {
        "single": pl.Int8(),
        "multi": pl.List(pl.Int8()),
        "date": pl.Date(),
        "integer": pl.Int16(),
        "text": pl.String(),
    }[var.kind]


def case_schema(codebook: Codebook | None = None) -> pl.Schema:
    """Columns of the canonical case table (variables only, no bookkeeping columns)."""
    cb = codebook or load()
    return pl.Schema({v.name: _dtype(v) for v in cb.national})


def risk_schema() -> pl.Schema:
    """Columns of the long risk-assessment table, one row per assessment.

    ``position`` is k of "Skattning risk <k>" (1-based); the case is identified by the
    same key columns as in the case table (added by the stage that builds it)."""
    return pl.Schema({"position": pl.Int8(), "date": pl.Date(), "instrument": pl.Int8(), "rating": pl.Int8()})


def _parse_variable(raw: dict[str, Any]) -> Variable:
    known = {
        "name",
        "suv",
        "label",
        "kind",
        "phase",
        "section",
        "personal",
        "comment",
        "project_added",
        "aliases",
        "description",
        "question",
        "options",
        "clause",
    }
    try:
        options = tuple(
            Option(
                int(o["code"]),
                str(o["label"]),
                bool(o.get("project_added", False)),
                display=str(o.get("display", "")),
                phrase=str(o.get("phrase", "")),
                clause=str(o.get("clause", "")),
                plural=str(o.get("plural", "")),
            )
            for o in raw.get("options", [])
        )
        return Variable(
            name=raw["name"],
            suv=int(raw["suv"]),
            label=str(raw["label"]),
            kind=raw["kind"],
            phase=int(raw["phase"]),
            section=str(raw.get("section", "")),
            personal=bool(raw.get("personal", False)),
            comment=bool(raw.get("comment", False)),
            project_added=bool(raw.get("project_added", False)),
            aliases=tuple(raw.get("aliases", [])),
            description=str(raw.get("description", "")),
            question=str(raw.get("question", "")),
            options=options,
            clause=str(raw.get("clause", "")),
            extra={k: v for k, v in raw.items() if k not in known},
        )
    except KeyError as missing:
        raise CodebookError(f"variable {raw.get('name', raw)!r} lacks key {missing}") from None


def validate(cb: Codebook) -> None:
    """Raise CodebookError naming the first entry that breaks a rule."""
    seen_names: set[str] = set()
    seen_suv: set[int] = set()
    seen_headers: dict[str, str] = {}
    for v in cb.variables:
        where = f"variable {v.name!r} (SUV {v.suv})"
        if v.name in seen_names:
            raise CodebookError(f"{where}: duplicate name")
        if v.suv in seen_suv:
            raise CodebookError(f"{where}: duplicate SUV number")
        seen_names.add(v.name)
        seen_suv.add(v.suv)
        if v.kind not in KINDS:
            raise CodebookError(f"{where}: kind {v.kind!r} is not one of {KINDS}")
        if v.phase not in cb.phases:
            raise CodebookError(f"{where}: phase {v.phase} is not in phases")
        for header in (v.label, *v.aliases):
            key = normalise(header)
            if key in seen_headers and seen_headers[key] != v.name:
                raise CodebookError(f"{where}: header {header!r} also names {seen_headers[key]!r}")
            seen_headers[key] = v.name
        _validate_options(where, v)
    _validate_derived(cb)


def _validate_options(where: str, v: Variable) -> None:
    """Options where the kind needs them, unique positive codes and unique labels."""
    if v.is_coded and not v.options:
        raise CodebookError(f"{where}: a {v.kind} variable needs options")
    if not v.is_coded and v.options:
        raise CodebookError(f"{where}: a {v.kind} variable cannot have options")
    codes = [o.code for o in v.options]
    if len(set(codes)) != len(codes):
        raise CodebookError(f"{where}: duplicate option codes {codes}")
    labels = [normalise(o.label) for o in v.options]
    if len(set(labels)) != len(labels):
        raise CodebookError(f"{where}: duplicate option labels")
    if any(c <= 0 for c in codes):
        raise CodebookError(f"{where}: option codes must be positive")
    if v.options and not v.clause and not all(o.clause for o in v.options):
        raise CodebookError(f"{where}: a variable with options needs a clause (or a clause per option)")
    if v.clause and "{option}" not in v.clause:
        raise CodebookError(f"{where}: clause {v.clause!r} has no {{option}} slot")
    if v.kind == "repeated":
        lo, hi = v.extra.get("rating_range", (None, None))
        if not (isinstance(lo, int) and isinstance(hi, int) and lo < hi):
            raise CodebookError(f"{where}: repeated group needs rating_range [low, high]")


def _validate_derived(cb: Codebook) -> None:
    """The constants of the derived variables: age groups from the adult age on, and
    code lists that name options of their variables."""
    d = cb.derived
    if not (isinstance(d["adult_age"], int) and isinstance(d["max_age"], int) and d["adult_age"] < d["max_age"]):
        raise CodebookError("derived.adult_age and derived.max_age must be whole years, adult_age < max_age")
    previous_max = d["adult_age"] - 1
    for g in d["age_groups"]:
        if g["min"] != previous_max + 1:
            raise CodebookError(f"age group {g['label']!r} does not follow the previous one")
        previous_max = g["max"] if g["max"] is not None else 10**6
    initiative = cb["initiative"].codes
    grouped = sorted(c for g in d["initiative_groups"] for c in g["codes"])
    if grouped != sorted(initiative):
        raise CodebookError("initiative_groups must cover every initiative code exactly once")
    for key, var in (
        ("housing_interventions", "interventions"),
        ("honour_interventions", "interventions"),
        ("collaboration_partner_codes", "collaboration"),
        ("goal_reached_codes", "goal_followup"),
    ):
        unknown = set(d[key]) - set(cb[var].codes)
        if unknown:
            raise CodebookError(f"derived.{key}: codes {sorted(unknown)} are not options of {var}")
    if d["no_collaboration_code"] not in cb["collaboration"].codes:
        raise CodebookError("derived.no_collaboration_code is not an option of collaboration")
    for var, code in d["top_group"].items():
        if code not in cb[var].codes:
            raise CodebookError(f"derived.top_group: {code} is not an option of {var}")
    for var in d["survey_variables"]:
        cb[var]  # raises KeyError naming it


def from_mapping(raw: dict[str, Any]) -> Codebook:
    cb = Codebook(
        variables=tuple(_parse_variable(v) for v in raw["variables"]),
        phases={int(k): str(v) for k, v in raw["phases"].items()},
        value_synonyms=dict(raw.get("value_synonyms", {})),
        chosen_values=tuple(str(x) for x in raw["chosen_values"]),
        not_chosen_values=tuple(str(x) for x in raw["not_chosen_values"]),
        derived=dict(raw["derived"]),
    )
    validate(cb)
    return cb


# libyaml's loader when installed (the pure-Python one takes ~0.4 s for this file, in
# every job and every parse of the Snakefile); both build the same Python values.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load() -> Codebook:
    """The project's codebook, validated (cached: it never changes during a run)."""
    text = resources.files("kvinnofrid.spec").joinpath("codebook.yaml").read_text(encoding="utf-8")
    return from_mapping(yaml.load(text, Loader=_YAML_LOADER))
