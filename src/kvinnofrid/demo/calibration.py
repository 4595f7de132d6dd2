"""Calibration of the demo data: every published value of the 2021–2023 report
(``reference_values.yaml``) next to the value the pipeline gives on the generated
cases.

``python -m kvinnofrid.demo.calibration`` simulates the demo rounds and prints the final
round's comparison as a text table with a summary line.

Every number comes from the pipeline's own modules, computed once there:

* the values of diagrams 1–27 from the national tables
  (``comparison.compare_tables(tables.build_all_tables(derive.derive_cases(...)))``);
* the cross-tabulations the report quotes (HRV, men, youngest age group, top group,
  survey respondents, repeated risk ratings) from ``stats.build_stats``, combined with
  table values where a statement compares a group with all cases (the definitions
  are the stats module's: "Svarande minus avslutade: en insats" = exactly one
  intervention among all closed cases, as in the drop-out analysis);
* the counts no table holds from ``facts.case_facts`` (partner perpetrator, housing,
  mean partners, top group, impairment, HRV by sex and age).

Only ``_own_values`` still computes from the derived cases: two initiative codes of
diagram 6, the union of three instruments of diagram 27, the municipality size
classes of the demo units, and the best unit's top-group share and size (the facts'
best unit requires ``best_unit_min_closed`` closed cases, the report's statement does
not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from kvinnofrid.demo.comparison import (
    OUTSIDE_TABLES,
    ComparisonError,
    compare_tables,
    comparison_row,
    format_lines,
    reference_values,
    summary_counts,
    table_reference,
    table_value,
)
from kvinnofrid.demo.simulate import SimulationSettings, simulate_rounds, units_frame
from kvinnofrid.spec import codebook
from kvinnofrid.spec.diagrams import load_registry
from kvinnofrid.spec.names import slug
from kvinnofrid.stages.derive import derive_cases, risk_change
from kvinnofrid.statistics.facts import build_facts
from kvinnofrid.statistics.stats import build_stats
from kvinnofrid.statistics.tables import build_all_tables

__all__ = ["calibration_report", "format_report", "main", "pipeline_outputs", "reference_values", "with_case_id"]

Key = tuple[str, str, str]  # (diagram, category, kind)
CASE_KEY_PARTS = ("unit", "client", "opened")
SMALL_UNITS_HRV: Key = ("_", "HRV share in municipalities under 20 000", "share")  # helper, not published


def with_case_id(frame: pl.DataFrame) -> pl.DataFrame:
    """The generator's frames have no ``case_id``: add unit|client|opened as one."""
    if "case_id" in frame.columns:
        return frame
    return frame.with_columns(
        pl.concat_str([pl.col(c).cast(pl.String) for c in CASE_KEY_PARTS], separator="|").alias("case_id")
    )


def pipeline_outputs(cases: pl.DataFrame, risk: pl.DataFrame) -> dict[str, Any]:
    """derived cases, tables, stats and facts, built by the pipeline's functions."""
    cases, risk = with_case_id(cases), with_case_id(risk)
    derived = derive_cases(cases, risk)
    tables = build_all_tables(derived)
    stats = build_stats(derived, risk_change(risk))
    facts = build_facts(tables, stats, derived)
    return {"derived": derived, "tables": tables, "stats": stats, "facts": facts}


# ------------------------------------------------------------------ size classes
@cache
def _size_table() -> pl.DataFrame:
    return units_frame().select("unit", "invanare_ungefar")


def _units_by_size(low: int, high: int) -> list[str]:
    return _size_table().filter(pl.col("invanare_ungefar").is_between(low, high))["unit"].to_list()


# ------------------------------------------------------------------ the values
def _pct(num: float, den: float) -> float:
    return 100.0 * num / den if den else math.nan


def _stat(stats: pl.DataFrame, comparison: str, variable: str, category: str | None) -> dict[str, Any]:
    rows = stats.filter((pl.col("comparison") == comparison) & (pl.col("variable") == variable))
    rows = rows.filter(pl.col("category").is_null() if category is None else pl.col("category") == category)
    if rows.height != 1:
        raise ComparisonError(f"stats: ingen rad {comparison}/{variable}/{category}")
    return rows.row(0, named=True)


def _pp(value: float | None) -> float:
    """A 0–1 share or share difference in percent (points); NaN when missing."""
    return math.nan if value is None else 100.0 * value


def _own_values(derived: pl.DataFrame) -> dict[Key, float]:
    """The few numbers no table, comparison or fact holds."""
    cb = codebook.load()
    out: dict[Key, float] = {}
    initiative = cb["initiative"]
    answered = derived.filter(pl.col("initiative").list.len().fill_null(0) > 0)
    for label in ("Brottsofferjour", "Rättsväsende"):
        code = initiative.codes[initiative.labels.index(label)]
        out[("6", label, "count")] = answered.filter(pl.col("initiative").list.contains(code)).height
    instruments = cb["risk_assessments"]
    methods = [instruments.codes[instruments.labels.index(x)] for x in ("SARA", "Patriark", "Annan bedömningsmetod")]
    with_instrument = derived.filter(pl.col("risk_instruments").list.len().fill_null(0) > 0)
    any_method = pl.col("risk_instruments").list.eval(pl.element().is_in(methods)).list.any()
    out[("27", "SARA, Patriark eller annan bedömningsmetod", "share")] = _pct(
        with_instrument.filter(any_method).height, with_instrument.height
    )
    t = "text"
    out[(t, "Andel ärenden från kommuner med 40 000–99 999 invånare", "share")] = _pct(
        derived.filter(pl.col("unit").is_in(_units_by_size(40000, 99999))).height, derived.height
    )
    small = derived.filter(pl.col("unit").is_in(_units_by_size(0, 19999)) & pl.col("honour_violence").is_not_null())
    out[SMALL_UNITS_HRV] = _pct(small.filter(pl.col("honour_violence") == 1).height, small.height)
    by_unit = (
        derived.group_by("unit")
        .agg(pl.len().alias("cases"), pl.col("is_closed").sum().alias("closed"), pl.col("top_group").sum().alias("top"))
        .filter(pl.col("closed") > 0)
        .with_columns((pl.col("top") / pl.col("closed")).alias("share"))
        .sort("share", "unit", descending=[True, False])
    )
    if by_unit.height:
        best = by_unit.row(0, named=True)
        out[(t, "Bästa enheten: toppgruppens andel av avslutade", "share")] = 100.0 * best["share"]
        out[(t, "Bästa enheten: antal ärenden", "count")] = best["cases"]
    return out


@dataclass(frozen=True)
class _Lookup:
    """Reads single values from the pipeline's tables, stats and facts, in percent."""

    tables: dict[int, pl.DataFrame]
    stats: pl.DataFrame
    facts: dict[str, Any]

    def fact(self, name: str) -> float:
        value = self.facts.get(name)
        return math.nan if value is None else float(value)

    def fact_pct(self, name: str) -> float:  # a 0–1 share fact in percent
        return 100.0 * self.fact(name)

    def table(self, diagram: str, category: str, kind: str) -> float:
        return table_value(self.tables, diagram, category, kind)

    def row(self, comparison: str, variable: str, category: str | None) -> dict[str, Any]:
        return _stat(self.stats, comparison, variable, category)

    def diff(self, comparison: str, variable: str, category: str | None) -> float:
        return _pp(self.row(comparison, variable, category)["difference"])

    def share_a(self, comparison: str, variable: str, category: str | None) -> float:
        return _pp(self.row(comparison, variable, category)["share_a"])

    def respondents_minus_closed(self, variable: str, category: str) -> float:
        # closed cases = respondents + closed non-respondents (the two stats groups)
        r = self.row("survey_dropout", variable, category)
        return _pp(r["share_a"]) - _pct(r["n_a"] + r["n_b"], r["denominator_a"] + r["denominator_b"])


def generated_outside_tables(outputs: dict[str, Any]) -> dict[Key, float]:
    """Every published value that is not a table row (``comparison.OUTSIDE_TABLES`` and
    the text's statements): from stats, facts, table values and ``_own_values``."""
    own = _own_values(outputs["derived"])
    small_hrv = own.pop(SMALL_UNITS_HRV)
    look = _Lookup(outputs["tables"], outputs["stats"], outputs["facts"])
    return {
        **own,
        **_diagram_cross_values(look),
        **_hrv_statements(look, small_hrv),
        **_men_statements(look),
        **_outcome_statements(look),
    }


def _diagram_cross_values(look: _Lookup) -> dict[Key, float]:
    """The values beside diagrams 7–12 and the impairment text that no table row holds."""
    cb = codebook.load()
    very, severe = cb["violence_severity"].label_of(3), cb["violence_severity"].label_of(2)
    return {
        ("7", "HRV: Mycket grovt", "share"): look.share_a("hrv", "violence_severity", very),
        ("7", "18–24: Mycket grovt", "share"): look.share_a("youngest", "violence_severity", very),
        ("7", "18–24: Grovt", "share"): look.share_a("youngest", "violence_severity", severe),
        ("8", "Nuvarande eller före detta partner", "share"): look.fact_pct("share_partner_perpetrator"),
        ("9", "Boenderelaterad insats (andel av alla ärenden)", "share"): look.fact_pct("share_housing_intervention"),
        ("12", "Antal samverkansparter per ärende med samverkan", "mean"): look.fact("mean_partners"),
        **{
            ("text-funktionsnedsattning", label, "share"): look.fact_pct(f"share_impairment_{slug(label, sep='_')}")
            for label in cb["impairment"].labels
        },
    }


def _hrv_statements(look: _Lookup, small_hrv: float) -> dict[Key, float]:
    """The text's statements on honour-related violence (HRV minus Ej HRV: ...)."""
    cb = codebook.load()
    yes = load_registry().labels["yes"]
    very = cb["violence_severity"].label_of(3)
    hrv = cb["honour_violence"].label_of(1)
    parent, relative = (cb["perpetrator"].label_of(k) for k in (3, 4))
    # all cases (diagram 26) minus the HRV cases of the stats comparison
    r = look.row("hrv", "risk_assessed", yes)
    ja = look.tables[26].filter(pl.col("category") == yes).row(0, named=True)
    t, hm = "text", "HRV minus Ej HRV: "
    return {
        (t, "Andel HRV bland kvinnor", "share"): _pp(look.row("men", "honour_violence", hrv)["share_b"]),
        (t, "Andel HRV bland män", "share"): look.share_a("men", "honour_violence", hrv),
        (t, "Andel HRV i kommuner under 20 000 invånare minus alla", "difference"): small_hrv
        - look.table("5", hrv, "share"),
        (t, "HRV: andel 18–34 år", "share"): look.fact_pct("hrv_share_age_18_34"),
        (t, "HRV, kvinnor: andel 18–34 år", "share"): look.fact_pct("hrv_women_share_young"),
        (t, "HRV, män: andel 18–34 år", "share"): look.fact_pct("hrv_men_share_young"),
        (t, hm + "utövare förälder/föräldrar", "difference"): look.diff("hrv", "perpetrator", parent),
        (t, hm + "utövare annan släkting", "difference"): look.diff("hrv", "perpetrator", relative),
        (t, hm + "andel Född utanför Europa", "difference"): look.table(
            "22", hm + cb["origin"].label_of(4), "difference"
        ),
        (t, "HRV: riskbedömning gjord", "share"): look.share_a("hrv", "risk_assessed", yes),
        (t, "Ej HRV eller okänt: riskbedömning gjord", "share"): _pct(
            ja["n"] - r["n_a"], ja["denominator"] - r["denominator_a"]
        ),
        (t, "HRV: mycket grovt våld", "share"): look.share_a("hrv", "violence_severity", very),
        (t, hm + "mycket grovt våld", "difference"): look.diff("hrv", "violence_severity", very),
    }


def _men_statements(look: _Lookup) -> dict[Key, float]:
    """The text's statements comparing men with women (Man minus Kvinna: ...)."""
    cb = codebook.load()
    very = cb["violence_severity"].label_of(3)
    parent, former_partner, other = (cb["perpetrator"].label_of(k) for k in (3, 2, 6))
    t, mw = "text", "Man minus Kvinna: "
    return {
        (t, mw + "utövare förälder/föräldrar", "difference"): look.diff("men", "perpetrator", parent),
        (t, mw + "utövare annan", "difference"): look.diff("men", "perpetrator", other),
        (t, mw + "utövare före detta partner", "difference"): look.diff("men", "perpetrator", former_partner),
        (t, mw + "mycket grovt våld", "difference"): look.diff("men", "violence_severity", very),
        (t, mw + "FREDA", "difference"): look.diff("men", "risk_instruments", cb["risk_assessments"].label_of(1)),
        (t, mw + "samtliga insatser avbrutna", "difference"): look.diff(
            "men", "implementation", cb["implementation"].label_of(3)
        ),
        (t, mw + "negativ förändring", "difference"): look.diff(
            "men", "goal_followup", cb["goal_followup"].label_of(4)
        ),
        (t, mw + "medelantal insatser (absolut)", "difference"): abs(
            look.row("men", "n_interventions", None)["difference"]
        ),
    }


def _outcome_statements(look: _Lookup) -> dict[Key, float]:
    """The text's statements on outcomes: top group, longer cases, survey respondents,
    repeated risk ratings."""
    cb = codebook.load()
    reg = load_registry()
    yes = reg.labels["yes"]
    very = cb["violence_severity"].label_of(3)
    former_partner = cb["perpetrator"].label_of(2)
    t, tm, rm = "text", "Toppgrupp minus alla: ", "Svarande minus avslutade: "
    return {
        (t, "Toppgruppen", "count"): look.fact("top_group_n"),
        (t, "Toppgruppen, andel av avslutade", "share"): look.fact_pct("top_group_share_closed"),
        (t, "Längre ärenden: andel målet uppnått 271–360 minus 1–90", "difference"): look.table(
            "17", "271–360 minus 1–90: " + cb["closing_reason"].label_of(1), "difference"
        ),
        (t, rm + "Född i Sverige med svenskfödd förälder", "difference"): look.respondents_minus_closed(
            "origin", cb["origin"].label_of(1)
        ),
        (t, rm + "HRV", "difference"): look.respondents_minus_closed(
            "honour_violence", cb["honour_violence"].label_of(1)
        ),
        (t, rm + "en insats", "difference"): look.respondents_minus_closed("single_intervention", yes),
        (t, rm + "mycket grovt våld", "difference"): look.respondents_minus_closed("violence_severity", very),
        (t, tm + "medelantal insatser", "difference"): look.row("top_group", "n_interventions", None)["mean_a"]
        - look.table("10", "Genomsnitt", "mean"),
        (t, tm + "riskbedömning gjord", "difference"): look.share_a("top_group", "risk_assessed", yes)
        - look.table("26", yes, "share"),
        (t, tm + "samverkan", "difference"):  # all cases with collaboration recorded: 1 − share "0"
        look.share_a("top_group", "any_partner", yes) - (100.0 - look.table("13", "0", "share")),
        (t, tm + "utövare före detta partner", "difference"): look.share_a("top_group", "perpetrator", former_partner)
        - look.table("8", former_partner, "share"),
        (t, "Upprepade skattningar: andel med oförändrad skattning (sista = första)", "share"): look.share_a(
            "risk_change", "risk_change", reg.labels["risk_change"]["unchanged"]
        ),
    }


# ------------------------------------------------------------------ the report
def calibration_report(cases: pl.DataFrame, risk: pl.DataFrame) -> pl.DataFrame:
    """One row per published value: diagram, measure, published, generated, tolerance,
    within (+ kind, relation, note). ``within`` is null for the entries whose published
    value the exact definitions cannot reproduce (``expected_deviation``)."""
    outputs = pipeline_outputs(cases, risk)
    ref = reference_values()
    table_ref = table_reference(ref)
    compared = compare_tables(outputs["tables"], table_ref)
    other = generated_outside_tables(outputs)
    held = {k for k in other if k[0].isdigit()}
    if held != set(OUTSIDE_TABLES):
        raise ComparisonError(
            f"comparison.OUTSIDE_TABLES and the calibration's own values differ: {sorted(held ^ set(OUTSIDE_TABLES))}"
        )
    in_tables = {k: i for i, k in enumerate(table_ref.select("diagram", "category", "kind").iter_rows())}
    rows = []
    for e in ref.iter_rows(named=True):
        key = (e["diagram"], e["category"], e["kind"])
        if key in in_tables:
            rows.append(compared.row(in_tables[key], named=True))
        elif key in other:
            rows.append(comparison_row(e, other[key]))
        else:
            raise ComparisonError(
                f"diagram {key[0]}: {key[1]!r} ({key[2]}): varken en tabellrad eller ett värde kalibreringen tar fram"
            )
    columns = ["diagram", "measure", "published", "generated", "tolerance", "within", "kind", "relation", "note"]
    return pl.DataFrame(rows, schema_overrides={"within": pl.Boolean, "note": pl.String}).select(columns)


def format_report(report: pl.DataFrame) -> str:
    """Aligned text table and a final summary line."""
    n_ok, n_checked, expected = summary_counts(report)
    lines = format_lines(report)
    lines.append("")
    lines.append(
        f"{n_ok} of {n_checked} within tolerance"
        + (f" ({expected} published values with a documented expected deviation not counted)" if expected else "")
    )
    return "\n".join(lines)


def main(seed: int | None = None) -> int:
    """Simulate the demo rounds (``seed``: default the settings' seed) and print the
    final round's calibration; exit status 1 when a value is outside its tolerance."""
    settings = SimulationSettings() if seed is None else SimulationSettings(seed=seed)
    final = simulate_rounds(settings)[-1]
    report = calibration_report(final.cases, final.risk)
    print(format_report(report))
    return 0 if report["within"].drop_nulls().all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
