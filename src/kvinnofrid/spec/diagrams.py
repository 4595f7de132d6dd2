"""The diagram registry (diagrams.yaml): typed access and validation.

Each national diagram is one entry: number, id, title, section, table function, figure
kind, variables, groups, multi flag (→ the note "Flera svarsalternativ kunde anges"),
N label and notes, plus what the table function needs (categories, population,
rows, means), and which rare categories a comparison report below national level
pools into one row (``collapse``: fewer small cells to hide; the national tables are
never collapsed). The loader checks the file against the codebook and names the entry
that is wrong, so a bad edit fails at once.

Every section and diagram has an ``id``: the key of its text (``report/text/<id>.md.j2``)
and of its passage, the comparisons its text makes together (``passages``: the families
of Holm's correction, kvinnofrid.statistics.claims). ``phrases`` says how the report's
sentences name the categories that are not codebook options (``category_clause``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook

TABLE_FUNCTIONS = ("phases", "single", "multi", "means", "histogram", "flag")
FIGURE_KINDS = ("bar", "stacked_bar", "grouped_bar", "histogram", "mean_bar")
POPULATIONS = ("closed", "has_intervention")
LABEL_LISTS = ("age_groups", "duration_bins", "partner_counts", "initiative_groups")
DERIVED_COLUMNS = (
    "age_group",
    "is_closed",
    "duration_days",
    "duration_bin",
    "n_interventions",
    "has_intervention",
    "housing_intervention",
    "n_partners",
    "initiative_groups",
    "risk_instruments",
    "risk_assessed",
    "top_group",
    "goal_reached",
    "survey_answered",
)


COLLAPSIBLE_TABLES = ("single", "multi", "histogram")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Derived columns whose categories are another variable's options.
OPTION_VARIABLES = {"risk_instruments": "risk_assessments"}
# Label lists whose every category needs a phrase (phrases.<column>).
PHRASED_LISTS = {"age_groups": "age_group", "duration_bins": "duration_bin", "partner_counts": "n_partners"}


class RegistryError(ValueError):
    """diagrams.yaml breaks one of its rules; the message names the diagram."""


@dataclass(frozen=True)
class Pool:
    """Categories of one diagram that a comparison report below national level shows
    as one row ``label``: ``codes`` (options of the category variable) or ``labels``
    (categories of a label list), in the diagram's category order."""

    label: str
    codes: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """A section of chapter 2: its id (text file, passage, anchor ``#sec-<id>``) and heading."""

    id: str
    title: str


@dataclass(frozen=True)
class ClaimSpec:
    """One comparison a passage makes (``claims``) or looks through (``screen``):
    ``comparison`` a group pair of kvinnofrid.statistics.stats, ``variable``, and the
    categories (option codes or derived labels; empty: every category, or a mean)."""

    comparison: str
    variable: str
    codes: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Passage:
    """The comparisons the text of section or diagram ``id`` makes together: the family
    of Holm's correction. ``claims`` are made whatever the result; ``screen`` rows are
    looked through and reported when they differ."""

    id: str
    claims: tuple[ClaimSpec, ...] = ()
    screen: tuple[ClaimSpec, ...] = ()


@dataclass(frozen=True)
class SizeMeasure:
    """A key share of the results by municipality size: option ``code`` of diagram
    ``diagram``'s category variable (its label ``category``), ``heading`` its column."""

    diagram: str
    code: int
    heading: str
    variable: str
    category: str


# The comparisons of the results by municipality size, per kind of area
# (kvinnofrid.disclosure.size_results) and the passage they form.
SIZE_COMPARISONS = {"storleksklass": "size_class_area", "grupp": "group_area"}
SIZE_PASSAGE = "storlek"


@dataclass(frozen=True)
class Diagram:
    number: int
    id: str
    title: str
    section: str
    table: str
    figure: str
    variables: tuple[str, ...]
    multi: bool
    n_label: str
    notes: tuple[str, ...] = ()
    population: tuple[str, ...] = ()
    category: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    groups: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    collapse: tuple[Pool, ...] = ()
    base: str = "ärendena"

    @property
    def slug(self) -> str:
        """The file name stem of the diagram's table and figure (``diagram_03``)."""
        return f"diagram_{self.number:02d}"


@dataclass(frozen=True)
class Registry:
    diagrams: tuple[Diagram, ...]
    sections: tuple[Section, ...]
    labels: dict[str, Any]
    defaults: dict[str, Any]
    multi_note: str
    facts: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, hash=False)
    passages: dict[str, Passage] = field(default_factory=dict, compare=False, hash=False)
    phrases: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    size_measures: tuple[SizeMeasure, ...] = ()

    def __getitem__(self, number: int) -> Diagram:
        for d in self.diagrams:
            if d.number == number:
                return d
        raise KeyError(f"diagram {number} finns inte i diagramregistret")

    def by_id(self, diagram_id: str) -> Diagram:
        for d in self.diagrams:
            if d.id == diagram_id:
                return d
        raise KeyError(f"diagrammet {diagram_id!r} finns inte i diagramregistret")

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(f"avsnittet {section_id!r} finns inte i diagramregistret")

    def in_section(self, section_id: str) -> list[Diagram]:
        return [d for d in self.diagrams if d.section == section_id]

    @property
    def text_ids(self) -> list[str]:
        """Every id that may have a text file: the sections', then the diagrams'."""
        return [s.id for s in self.sections] + [d.id for d in self.diagrams]

    @property
    def numbers(self) -> list[int]:
        return [d.number for d in self.diagrams]

    def label_list(self, name: str, cb: Codebook | None = None) -> list[str]:
        """A named list of derived category labels, in figure order."""
        c = cb or codebook_module.load()
        if name == "age_groups":
            return c.age_group_labels()
        if name == "duration_bins":
            return c.duration_bin_labels()
        if name == "initiative_groups":
            return [g["label"] for g in c.derived["initiative_groups"]]
        if name == "partner_counts":
            cap = int(self.defaults["partner_count_cap"])
            return [str(k) for k in range(cap)] + [f"{cap}+"]
        raise KeyError(f"okänd etikettlista {name!r}")

    def notes_for(self, number: int) -> list[str]:
        """All notes under the figure, the multi-choice note first."""
        d = self[number]
        return ([self.multi_note] if d.multi else []) + list(d.notes)


def category_clause(reg: Registry, cb: Codebook, variable: str, label: str) -> str:
    """The Swedish main clause saying that a case is in category ``label`` of
    ``variable`` (a codebook variable, a derived column with ``phrases``, or a flag,
    whose only category is ``labels.yes``); KeyError naming what is missing."""
    variable = OPTION_VARIABLES.get(variable, variable)
    if variable in {v.name for v in cb.variables}:
        var = cb[variable]
        return var.clause_of(var.code_of(label))
    entry = reg.phrases.get(variable)
    if entry is None:
        raise KeyError(f"{variable!r} har ingen formulering i diagramregistrets phrases")
    if "options" not in entry:
        if label != reg.labels["yes"]:
            raise KeyError(f"{variable!r} har bara en formulering, för {reg.labels['yes']!r}")
        return str(entry["clause"])
    option = entry["options"].get(label)
    if option is None:
        raise KeyError(f"kategorin {label!r} av {variable!r} saknar formulering i diagramregistrets phrases")
    return str(option.get("clause") or entry["clause"].format(option=option["phrase"]))


_KNOWN = {
    "number",
    "id",
    "base",
    "title",
    "section",
    "table",
    "figure",
    "variables",
    "multi",
    "n_label",
    "notes",
    "population",
    "category",
    "groups",
    "collapse",
}


def _check_codes(where: str, cb: Codebook, variable: str, codes: list[int]) -> None:
    unknown = sorted(set(codes) - set(cb[variable].codes))
    if unknown:
        raise RegistryError(f"{where}: codes {unknown} are not options of {variable}")
    if len(set(codes)) != len(codes):
        raise RegistryError(f"{where}: duplicate codes {codes}")


def validate(reg: Registry, cb: Codebook) -> None:
    """Raise RegistryError naming the first diagram, fact or default that breaks a rule."""
    numbers = reg.numbers
    if numbers != list(range(1, len(numbers) + 1)):
        raise RegistryError(f"diagram numbers must be 1, 2, … in order, got {numbers}")
    _validate_ids(reg)
    _validate_passages(reg, cb)
    _validate_phrases(reg, cb)
    columns = {v.name for v in cb.national} | set(DERIVED_COLUMNS)
    for d in reg.diagrams:
        where = f"diagram {d.number} ({d.title})"
        _validate_kinds(where, d, reg, columns)
        if d.table in ("single", "multi", "histogram"):
            _validate_category(where, d.category, cb, columns)
        if d.groups is not None:
            _validate_groups(where, d.groups, reg, cb, columns)
        _validate_table_extras(where, d, cb)
        _validate_collapse(where, d, reg, cb)
    _validate_facts(reg, cb)
    ages = cb.age_group_labels()
    for label in [*reg.defaults.get("young_age_groups", []), reg.defaults.get("hrv_women_age_group")]:
        if label is not None and label not in ages:
            raise RegistryError(f"defaults: {label!r} is not an age group of the codebook")
    for key in ("yes", "no", "risk_change", "honour_groups", "comparison_groups"):
        if key not in reg.labels:
            raise RegistryError(f"labels.{key} is missing")


def _validate_kinds(where: str, d: Diagram, reg: Registry, columns: set[str]) -> None:
    """Table function, figure kind, section, variables and populations are known ones."""
    if d.table not in TABLE_FUNCTIONS:
        raise RegistryError(f"{where}: table {d.table!r} is not one of {TABLE_FUNCTIONS}")
    if d.figure not in FIGURE_KINDS:
        raise RegistryError(f"{where}: figure {d.figure!r} is not one of {FIGURE_KINDS}")
    if d.section not in {s.id for s in reg.sections}:
        raise RegistryError(f"{where}: section {d.section!r} is not the id of one of sections")
    for v in d.variables:
        if v not in columns:
            raise RegistryError(f"{where}: unknown variable {v!r}")
    for p in d.population:
        if p not in POPULATIONS:
            raise RegistryError(f"{where}: population {p!r} is not one of {POPULATIONS}")
    if d.multi != (d.table == "multi"):
        raise RegistryError(f"{where}: multi must be true exactly for table 'multi'")


def _validate_ids(reg: Registry) -> None:
    """Ids are slugs, unique over the sections and the diagrams together (one text file each)."""
    seen: set[str] = set()
    for key in reg.text_ids:
        if not ID_PATTERN.match(key):
            raise RegistryError(f"id {key!r}: use lower case a–z, 0–9 and '-' only")
        if key in seen:
            raise RegistryError(f"id {key!r} is used twice (sections and diagrams share one set of ids)")
        seen.add(key)


def _validate_passages(reg: Registry, cb: Codebook) -> None:
    """A passage is keyed by a section or diagram id; its options are the variable's."""
    for key, passage in reg.passages.items():
        if key not in reg.text_ids:
            raise RegistryError(f"passage {key!r} is not the id of a section or a diagram")
        if not passage.claims and not passage.screen:
            raise RegistryError(f"passage {key!r} makes no claims and screens nothing")
        for c in passage.claims + passage.screen:
            variable = OPTION_VARIABLES.get(c.variable, c.variable)
            if c.codes:
                if variable not in {v.name for v in cb.variables}:
                    raise RegistryError(f"passage {key!r}: {c.variable!r} has no option codes")
                _check_codes(f"passage {key!r}", cb, variable, list(c.codes))


def _validate_phrases(reg: Registry, cb: Codebook) -> None:
    """Every category of the phrased label lists can be put into a sentence."""
    for list_name, column in PHRASED_LISTS.items():
        for label in reg.label_list(list_name, cb):
            try:
                category_clause(reg, cb, column, label)
            except (KeyError, AttributeError) as missing:
                raise RegistryError(f"phrases.{column}: {missing}") from None
    for label in reg.label_list("initiative_groups", cb):
        try:
            category_clause(reg, cb, "initiative_groups", label)
        except KeyError as missing:
            raise RegistryError(f"phrases.initiative_groups: {missing}") from None


def _validate_category(where: str, cat: dict[str, Any], cb: Codebook, columns: set[str]) -> None:
    """The category of a single/multi/histogram table: a codebook variable (with
    codes, and a conditional code list of the codebook's derived) or a label list."""
    if "variable" in cat:
        var = cb[cat["variable"]] if cat["variable"] in {v.name for v in cb.variables} else None
        if var is None:
            raise RegistryError(f"{where}: unknown category variable {cat['variable']!r}")
        _check_codes(where, cb, var.name, list(cat.get("codes", var.codes)))
        if "conditional" in cat:
            if cat["conditional"] not in cb.derived:
                raise RegistryError(f"{where}: {cat['conditional']!r} is not in codebook derived")
            _check_codes(where, cb, var.name, list(cat.get("codes", [])) + list(cb.derived[cat["conditional"]]))
    elif "labels" in cat:
        if cat["labels"] not in LABEL_LISTS:
            raise RegistryError(f"{where}: label list {cat['labels']!r} is not one of {LABEL_LISTS}")
    else:
        raise RegistryError(f"{where}: category needs a variable or a label list")
    if "column" in cat and cat["column"] not in columns:
        raise RegistryError(f"{where}: unknown category column {cat['column']!r}")


def _validate_groups(where: str, g: dict[str, Any], reg: Registry, cb: Codebook, columns: set[str]) -> None:
    if g.get("column") not in columns:
        raise RegistryError(f"{where}: unknown group column {g.get('column')!r}")
    if "codes" in g:
        _check_codes(where, cb, g["column"], list(g["codes"]))
        if "labels" in g and g["labels"] not in reg.labels:
            raise RegistryError(f"{where}: group labels {g['labels']!r} not in labels")
    elif g.get("labels") not in LABEL_LISTS:
        raise RegistryError(f"{where}: groups need codes or a label list")


def _validate_table_extras(where: str, d: Diagram, cb: Codebook) -> None:
    """What the phases, means and flag tables need besides the common keys."""
    if d.table == "phases" and not d.extra.get("rows"):
        raise RegistryError(f"{where}: a phases table needs rows")
    if d.table == "means":
        for m in d.extra.get("means", []):
            for key, value in m.get("where", {}).items():
                if key == "age_group":
                    if value not in cb.age_group_labels():
                        raise RegistryError(f"{where}: {value!r} is not an age group of the codebook")
                else:
                    _check_codes(where, cb, key, [value])
            for key, value in m.get("contains", {}).items():
                _check_codes(where, cb, key, [value])
    if d.table == "flag" and d.extra.get("flag") not in DERIVED_COLUMNS:
        raise RegistryError(f"{where}: flag must name a derived column")


def category_labels(d: Diagram, reg: Registry, cb: Codebook) -> list[str]:
    """The fixed categories of a single, multi or histogram diagram, in figure order
    (without the conditional options, which depend on the data)."""
    cat = d.category
    if "variable" in cat:
        var = cb[cat["variable"]]
        return [var.label_of(c) for c in cat.get("codes", var.codes)]
    return reg.label_list(cat["labels"], cb)


def pooled_labels(d: Diagram, pool: Pool, cb: Codebook) -> list[str]:
    """The category labels ``pool`` puts together."""
    if pool.codes:
        var = cb[d.category["variable"]]
        return [var.label_of(c) for c in pool.codes]
    return list(pool.labels)


def _validate_collapse(where: str, d: Diagram, reg: Registry, cb: Codebook) -> None:
    """A pool names at least two of the diagram's categories, each in one pool only,
    and a label that is not another category's."""
    if not d.collapse:
        return
    if d.table not in COLLAPSIBLE_TABLES:
        raise RegistryError(f"{where}: collapse is only for tables {COLLAPSIBLE_TABLES}")
    known = category_labels(d, reg, cb)
    conditional = (
        [cb[d.category["variable"]].label_of(c) for c in cb.derived[d.category["conditional"]]]
        if "conditional" in d.category
        else []
    )
    seen: list[str] = []
    for pool in d.collapse:
        if bool(pool.codes) == bool(pool.labels) or ("variable" in d.category) != bool(pool.codes):
            raise RegistryError(f"{where}: a pool needs codes (coded categories) or labels (label lists)")
        pooled = pooled_labels(d, pool, cb) if all(c in cb[d.category["variable"]].codes for c in pool.codes) else None
        if pooled is None or any(p not in known + conditional for p in pooled):
            raise RegistryError(f"{where}: pool {pool.label!r} names a category the diagram does not have")
        if len(set(pooled)) < 2:
            raise RegistryError(f"{where}: pool {pool.label!r} needs at least two categories")
        if not any(p in known for p in pooled):
            raise RegistryError(f"{where}: pool {pool.label!r} needs at least one fixed category")
        if set(pooled) & set(seen) or (pool.label in known and pool.label not in pooled):
            raise RegistryError(f"{where}: pool {pool.label!r} overlaps another pool or category")
        seen += pooled


def _claim_spec(raw: dict[str, Any]) -> ClaimSpec:
    codes = raw.get("codes", [raw["code"]] if "code" in raw else [])
    labels = raw.get("labels", [raw["label"]] if "label" in raw else [])
    return ClaimSpec(str(raw["comparison"]), str(raw["variable"]), tuple(int(c) for c in codes), tuple(labels))


def _passage(key: str, raw: dict[str, Any]) -> Passage:
    try:
        screen = [
            ClaimSpec(str(s["comparison"]), str(v), tuple(int(c) for c in s.get("codes", [])))
            for s in raw.get("screen", [])
            for v in s["variables"]
        ]
        return Passage(key, tuple(_claim_spec(c) for c in raw.get("claims", [])), tuple(screen))
    except KeyError as missing:
        raise RegistryError(f"passage {key!r} lacks key {missing}") from None


def _pools(entry: dict[str, Any]) -> tuple[Pool, ...]:
    return tuple(
        Pool(
            label=str(p["label"]),
            codes=tuple(int(c) for c in p.get("codes", [])),
            labels=tuple(str(x) for x in p.get("labels", [])),
        )
        for p in entry.get("collapse", [])
    )


def _validate_facts(reg: Registry, cb: Codebook) -> None:
    numbers = set(reg.numbers)
    for name, spec in reg.facts.items():
        where = f"fact {name!r}"
        if spec.get("diagram") not in numbers:
            raise RegistryError(f"{where}: diagram {spec.get('diagram')!r} is not registered")
        d = reg[spec["diagram"]]
        if spec.get("column", "share") not in ("share", "n", "denominator", "mean"):
            raise RegistryError(f"{where}: column must be share, n, denominator or mean")
        if "code" in spec or "codes" in spec:
            codes = spec.get("codes", [spec.get("code")])
            if "variable" not in d.category:
                raise RegistryError(f"{where}: diagram {d.number} has no coded categories")
            _check_codes(where, cb, d.category["variable"], list(codes))
        elif "labels" in spec:
            known = reg.label_list(d.category["labels"], cb) if "labels" in d.category else []
            for label in spec["labels"]:
                if label not in known:
                    raise RegistryError(f"{where}: {label!r} is not a category of diagram {d.number}")
        elif "category" in spec:
            known = (
                [r["label"] for r in d.extra.get("rows", [])]
                + [m["label"] for m in d.extra.get("means", [])]
                + ([reg.labels["yes"], reg.labels["no"]] if d.table == "flag" else [])
            )
            if spec["category"] not in known:
                raise RegistryError(f"{where}: {spec['category']!r} is not a category of diagram {d.number}")
        else:
            raise RegistryError(f"{where}: needs code, codes, labels or category")


def from_mapping(raw: dict[str, Any], cb: Codebook | None = None) -> Registry:
    diagrams = []
    for entry in raw["diagrams"]:
        try:
            diagrams.append(
                Diagram(
                    number=int(entry["number"]),
                    id=str(entry["id"]),
                    title=str(entry["title"]),
                    section=str(entry["section"]),
                    table=str(entry["table"]),
                    figure=str(entry["figure"]),
                    variables=tuple(entry.get("variables", [])),
                    multi=bool(entry.get("multi", False)),
                    n_label=str(entry["n_label"]),
                    notes=tuple(entry.get("notes", [])),
                    population=tuple(entry.get("population", [])),
                    category=dict(entry.get("category", {})),
                    groups=dict(entry["groups"]) if entry.get("groups") else None,
                    extra={k: v for k, v in entry.items() if k not in _KNOWN},
                    collapse=_pools(entry),
                    base=str(entry.get("base", "ärendena")),
                )
            )
        except KeyError as missing:
            raise RegistryError(f"diagram {entry.get('number', entry)!r} lacks key {missing}") from None
    sections = tuple(Section(str(s["id"]), str(s["title"])) for s in raw["sections"])
    passages = {str(k): _passage(str(k), v) for k, v in (raw.get("passages") or {}).items()}
    reg = Registry(
        diagrams=tuple(diagrams),
        sections=sections,
        labels=dict(raw["labels"]),
        defaults=dict(raw["defaults"]),
        multi_note=str(raw["multi_note"]),
        facts={str(k): dict(v) for k, v in raw.get("facts", {}).items()},
        passages=passages,
        phrases=dict(raw.get("phrases") or {}),
    )
    codebook = cb or codebook_module.load()
    validate(reg, codebook)
    # the results by municipality size: its key shares, and its passage made from them
    measures = _size_measures(raw.get("size_measures") or [], diagrams, codebook)
    if measures and SIZE_PASSAGE in {s.id for s in sections}:
        passages[SIZE_PASSAGE] = Passage(
            SIZE_PASSAGE,
            screen=tuple(ClaimSpec(c, m.variable, (m.code,)) for c in SIZE_COMPARISONS.values() for m in measures),
        )
    return replace(reg, passages=passages, size_measures=measures)


def _size_measures(raw: list[dict[str, Any]], diagrams: list[Diagram], cb: Codebook) -> tuple[SizeMeasure, ...]:
    """The registry's ``size_measures``: a coded single-choice diagram each, an option
    of its variable that no collapse pool holds (a comparison table shows it as it is)."""
    by_id = {d.id: d for d in diagrams}
    out = []
    for entry in raw:
        where = f"size_measures {entry.get('diagram')!r}"
        d = by_id.get(str(entry.get("diagram")))
        if d is None or d.table != "single" or d.groups or "variable" not in d.category:
            raise RegistryError(f"{where}: needs the id of an ungrouped single-choice diagram of a coded variable")
        if "code" not in entry or "heading" not in entry:
            raise RegistryError(f"{where}: needs code and heading")
        variable = d.category["variable"]
        _check_codes(where, cb, variable, [int(entry["code"])])
        if any(int(entry["code"]) in p.codes for p in d.collapse):
            raise RegistryError(f"{where}: code {entry['code']} is pooled (collapse); a comparison table lacks it")
        label = cb[variable].label_of(int(entry["code"]))
        out.append(SizeMeasure(d.id, int(entry["code"]), str(entry["heading"]), variable, label))
    return tuple(out)


# libyaml's loader when installed (the pure-Python one takes ~0.4 s for this file, in
# every job and every parse of the Snakefile); both build the same Python values.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load_registry() -> Registry:
    """The project's diagram registry, validated against the codebook (cached)."""
    text = resources.files("kvinnofrid.spec").joinpath("diagrams.yaml").read_text(encoding="utf-8")
    return from_mapping(yaml.load(text, Loader=_YAML_LOADER))
