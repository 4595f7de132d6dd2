"""Facts: every number the report text quotes, as one flat dict (docs/output-contract.md,
"Facts"), written to ``results/facts.json``.

Three sources, in this order of preference:

1. the national tables, declared in the registry's ``facts:`` section (a fact names a
   diagram and its category; nothing is recomputed from the cases);
2. the comparison rows of kvinnofrid.statistics.stats (``stats_facts`` below), with
   ``p_holm`` / ``significant`` of the passage that makes the comparison (its family,
   kvinnofrid.statistics.claims), as the report's text says them;
3. a few counts no table holds (``case_facts``): top group, current-or-former
   partner, housing-related interventions, mean partners, units, HRV by sex and
   age (``hrv_men_share_young``, ``hrv_women_share_young`` = share aged ``defaults.young_age_groups`` among HRV
   cases with an age group; ``women_age_group_share_hrv`` = HRV share among women in
   ``defaults.hrv_women_age_group`` with HRV answered), the best unit's top-group
   share of its closed cases (units with ≥ ``defaults.best_unit_min_closed``),
   ``share_impairment_<option>`` among cases with any answer to 19; the counts of cases
   whose initiative came from a brottsofferjour or the rättsväsende (shown inside
   "Annat" in diagram 6: ``n_initiative_<option>``), of cases collaborating with a
   resource centre on honour-related violence (``n_collaboration_resource_centre``)
   and of cases with children followed up (``n_children_followup`` /
   ``share_children_followup``: any answer to 41).

``n_initiative_answers`` is the sum of diagram 6's counts: the answers, which the
earlier report gave as the diagram's N (this report's N is the cases).
``share_partner_all_cases`` is the share of all cases with a collaboration partner
(the base the earlier report used; ``share_with_collaboration`` is among the cases
where collaboration was recorded).

Also, generically, ``diagram_NN_n`` = the diagram's N (ungrouped diagrams with one
denominator) and ``diagram_NN_n_<group>`` per group; ``share_with_collaboration`` =
1 − ``share_no_collaboration`` and the sizes of the follow-up (``n_variables`` of the
codebook, ``n_diagrams`` of the registry), so that no template computes a number; and,
when the marked participants list is given (kvinnofrid.statistics.participants), the
participant counts and ``participants_by_lan``; and, when given, what the municipality
size classes rest on (kvinnofrid.spec.municipalities.population_source):
``size_class_population`` (``scb`` or ``register``), ``size_class_population_year``
(SCB's year, else null) and ``size_class_population_fallback`` (municipalities of
the units that SCB's file lacks, which kept the register's figure).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.diagrams import Registry, load_registry
from kvinnofrid.spec.names import slug
from kvinnofrid.statistics.claims import find_difference, passage_differences
from kvinnofrid.statistics.participants import participant_facts

FACT_PRECISION = 6  # decimals of floats in facts.json (byte-identical reruns)


class FactError(ValueError):
    """A fact cannot be read from its table; the message names the fact."""


def _table_fact(
    name: str, spec: dict[str, Any], tables: dict[int, pl.DataFrame], reg: Registry, cb: Codebook
) -> float | int | None:
    number = spec["diagram"]
    if number not in tables:
        raise FactError(f"fact {name}: diagram {number}'s table is missing")
    table = tables[number]
    d = reg[number]
    if "group" in spec:
        table = table.filter(pl.col("group") == spec["group"])
    if "code" in spec or "codes" in spec:
        var = cb[d.category["variable"]]
        labels = [var.label_of(c) for c in spec.get("codes", [spec.get("code")])]
    elif "labels" in spec:
        labels = list(spec["labels"])
    else:
        labels = [spec["category"]]
    rows = table.filter(pl.col("category").is_in(labels))
    if rows.height != len(labels):
        raise FactError(f"fact {name}: categories {labels} not all in diagram {number}")
    column = spec.get("column", "share")
    values = rows[column].to_list()
    if column == "denominator":
        return int(values[0])
    if any(v is None for v in values):
        return None
    if column == "n":
        return int(sum(values))
    if column == "mean":
        return float(values[0])
    return float(sum(values))


def _stats_row(stats: pl.DataFrame, comparison: str, variable: str, category: str | None) -> dict[str, Any] | None:
    if stats is None or stats.height == 0:
        return None
    rows = stats.filter((pl.col("comparison") == comparison) & (pl.col("variable") == variable))
    rows = rows.filter(pl.col("category").is_null() if category is None else pl.col("category") == category)
    return rows.row(0, named=True) if rows.height else None


def stats_facts(stats: pl.DataFrame | None, reg: Registry, cb: Codebook) -> dict[str, Any]:
    """Named numbers from the comparison rows (kvinnofrid.statistics.stats); ``p_holm``
    and ``significant`` are those of the passage whose text makes the comparison."""
    yes = reg.labels["yes"]
    hrv = cb["honour_violence"].label_of(reg[21].groups["codes"][0])
    very_severe = cb["violence_severity"].labels[-1]
    freda = cb["risk_assessments"].labels[0]
    unchanged = reg.labels["risk_change"]["unchanged"]
    # (fact prefix, comparison, variable, category)
    wanted = [
        ("hrv_risk_assessed", "hrv", "risk_assessed", yes),
        ("hrv_very_severe", "hrv", "violence_severity", very_severe),
        ("hrv_duration", "hrv", "duration_days", None),
        ("men_hrv", "men", "honour_violence", hrv),
        ("men_very_severe", "men", "violence_severity", very_severe),
        ("men_freda", "men", "risk_instruments", freda),
        ("men_interventions", "men", "n_interventions", None),
        ("top_group_interventions", "top_group", "n_interventions", None),
        ("top_group_risk_assessed", "top_group", "risk_assessed", yes),
        ("risk_change_unchanged", "risk_change", "risk_change", unchanged),
        ("risk_change_top_group_unchanged", "risk_change_top_group", "risk_change", unchanged),
    ]
    passages = passage_differences(stats, reg, cb)
    out: dict[str, Any] = {}
    for prefix, comparison, variable, category in wanted:
        row = _stats_row(stats, comparison, variable, category)
        if row is None:
            continue
        claim = find_difference(passages, comparison, variable, category)
        if claim is not None:
            row = {**row, "p_holm": claim.p_family, "significant": claim.significant}
        for key in (
            "share_a",
            "share_b",
            "mean_a",
            "mean_b",
            "n_a",
            "n_b",
            "denominator_a",
            "denominator_b",
            "p_holm",
            "significant",
        ):
            if row.get(key) is not None:
                out[f"{prefix}_{key}"] = row[key]
    return out


def case_facts(derived: pl.DataFrame, cb: Codebook, reg: Registry) -> dict[str, Any]:
    """Counts no table holds, from the derived case table."""
    closed = int(derived["is_closed"].sum())
    top = int(derived["top_group"].sum())
    partner_codes = reg.defaults["partner_perpetrator_codes"]
    with_perpetrator = derived.filter(pl.col("perpetrator").list.len().fill_null(0) > 0)
    partner = with_perpetrator.filter(
        pl.col("perpetrator").list.eval(pl.element().is_in(partner_codes)).list.any()
    ).height
    partners = derived.filter(pl.col("n_partners") >= 1)["n_partners"]
    total = derived.height
    d = reg.defaults
    hv, (hrv_yes, _) = reg[21].groups["column"], reg[21].groups["codes"]
    sex, (woman, man) = reg[24].groups["column"], reg[24].groups["codes"]
    hrv = derived.filter((pl.col(hv) == hrv_yes) & pl.col("age_group").is_not_null())
    young = pl.col("age_group").is_in(d["young_age_groups"])

    def share(frame: pl.DataFrame, cond: pl.Expr) -> float | None:
        return frame.filter(cond).height / frame.height if frame.height else None

    women_age = derived.filter(
        (pl.col(sex) == woman) & (pl.col("age_group") == d["hrv_women_age_group"]) & pl.col(hv).is_not_null()
    )
    per_unit = (
        derived.filter(pl.col("is_closed"))
        .group_by("unit")
        .agg(pl.len().alias("closed"), pl.col("top_group").sum().alias("top"))
        .filter(pl.col("closed") >= d["best_unit_min_closed"])
        .with_columns((pl.col("top") / pl.col("closed")).alias("share"))
        .sort(["share", "closed", "unit"], descending=[True, False, False])
    )
    best = per_unit.row(0, named=True) if per_unit.height else None
    impairment = derived.filter(pl.col("impairment").list.len().fill_null(0) > 0)
    children = derived.filter(pl.col("children_followup").list.len().fill_null(0) > 0).height
    impairment_facts = {
        f"share_impairment_{slug(label, sep='_')}": share(impairment, pl.col("impairment").list.contains(code))
        for code, label in zip(cb["impairment"].codes, cb["impairment"].labels)
    }
    return {
        **impairment_facts,
        **_count_facts(derived, cb),
        "n_children_followup": children,
        "share_children_followup": children / total if total else None,
        "hrv_men_share_young": share(hrv.filter(pl.col(sex) == man), young),
        "hrv_women_share_young": share(hrv.filter(pl.col(sex) == woman), young),
        "women_age_group_share_hrv": share(women_age, pl.col(hv) == hrv_yes),
        "best_unit_top_group_share": best["share"] if best else None,
        "best_unit_top_group_n": best["top"] if best else None,
        "best_unit_closed_n": best["closed"] if best else None,
        "units_total": derived["unit"].n_unique(),
        "top_group_n": top,
        "top_group_share_closed": top / closed if closed else None,
        "share_partner_perpetrator": partner / with_perpetrator.height if with_perpetrator.height else None,
        "n_housing_intervention": int(derived["housing_intervention"].sum()),
        "share_housing_intervention": float(derived["housing_intervention"].sum()) / total if total else None,
        "mean_partners": float(partners.mean()) if partners.len() else None,
    }


def _count_facts(derived: pl.DataFrame, cb: Codebook) -> dict[str, int]:
    """Cases with options that no diagram shows on their own: initiative from a
    brottsofferjour or the rättsväsende (inside "Annat" in diagram 6), collaboration
    with a resource centre on honour-related violence."""
    initiative, collaboration = cb["initiative"], cb["collaboration"]

    def count(column: str, code: int) -> int:
        return derived.filter(pl.col(column).list.contains(code).fill_null(False)).height

    return {
        "n_initiative_brottsofferjour": count("initiative", initiative.code_of("Brottsofferjour")),
        "n_initiative_rattsvasende": count("initiative", initiative.code_of("Rättsväsende")),
        "n_collaboration_resource_centre": count(
            "collaboration", collaboration.code_of("Resurscentrum/expertis på hedersrelaterat våld")
        ),
    }


def diagram_ns(tables: dict[int, pl.DataFrame], reg: Registry) -> dict[str, int]:
    """diagram_NN_n (one N) and diagram_NN_n_<group> (grouped diagrams)."""
    out: dict[str, int] = {}
    for number, table in sorted(tables.items()):
        d = reg[number]
        if d.table in ("phases", "means"):
            continue
        if d.groups is None:
            out[f"diagram_{number:02d}_n"] = int(table["denominator"][0])
        else:
            for group, den in (
                table.group_by("group", maintain_order=True).agg(pl.col("denominator").first()).iter_rows()
            ):
                out[f"diagram_{number:02d}_n_{slug(group, sep='_')}"] = int(den)
    return out


def report_facts(facts: dict[str, Any], reg: Registry, cb: Codebook) -> dict[str, Any]:
    """Numbers the text would otherwise compute itself: complements and counts."""
    no_collaboration = facts.get("share_no_collaboration")
    partner, total = facts.get("cases_with_partner"), facts.get("cases_total")
    return {
        "share_with_collaboration": None if no_collaboration is None else 1 - no_collaboration,
        # on the base of all cases, as the earlier reports gave collaboration
        "share_partner_all_cases": partner / total if partner is not None and total else None,
        "n_variables": len(cb.variables),
        "n_diagrams": len(reg.diagrams),
    }


def build_facts(
    tables: dict[int, pl.DataFrame],
    stats: pl.DataFrame | None,
    derived: pl.DataFrame,
    registry: Registry | None = None,
    codebook: Codebook | None = None,
    participants: tuple[pl.DataFrame, pl.DataFrame] | None = None,
    size_class_population: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The dict of named numbers (see the module docstring). ``participants``: the
    participants list marked by ``participants.match_participants`` and the data's
    units with their municipality (``municipalities.unit_municipalities``);
    ``size_class_population``: municipalities.population_source."""
    reg = registry or load_registry()
    cb = codebook or codebook_module.load()
    facts: dict[str, Any] = {}
    for name, spec in reg.facts.items():
        facts[name] = _table_fact(name, spec, tables, reg, cb)
    facts.update(diagram_ns(tables, reg))
    facts["n_initiative_answers"] = int(tables[reg.by_id("initiativ").number]["n"].sum())
    facts.update(stats_facts(stats, reg, cb))
    for key, value in case_facts(derived, cb, reg).items():
        _add(facts, key, value)
    for key, value in report_facts(facts, reg, cb).items():
        _add(facts, key, value)
    if participants is not None:
        for key, value in participant_facts(*participants).items():
            _add(facts, key, value)
    if size_class_population is not None:
        _add(facts, "size_class_population", size_class_population["source"])
        _add(facts, "size_class_population_year", size_class_population["year"])
        _add(facts, "size_class_population_fallback", size_class_population["fallback"])
    return facts


def _add(facts: dict[str, Any], key: str, value: Any) -> None:
    if key in facts:
        raise FactError(f"fact {key} is defined twice")
    facts[key] = value


def _clean(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, FACT_PRECISION)
    return value


def facts_json(facts: dict[str, Any]) -> str:
    """JSON text: sorted keys, floats rounded to FACT_PRECISION, UTF-8 characters kept."""
    return json.dumps({k: _clean(v) for k, v in facts.items()}, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


def write_facts(facts: dict[str, Any], path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(facts_json(facts).encode("utf-8"))
    return path
