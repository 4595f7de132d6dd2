"""Derived variables: each defined once, here, as a polars expression.

Definitions: ``docs/data-contract.md`` ("Derived variables") and
``docs/table-definitions.md`` ("Exact definitions"). Every constant (age
groups, bin width, code groups) is read from the codebook's ``derived:`` section.

Column names added by :func:`derive_cases` (the compiled table already has a Date
column ``closed`` = SUV 256, so the boolean is called ``is_closed``):

``age_group``, ``is_closed``, ``duration_days``, ``duration_bin``,
``n_interventions``, ``has_intervention``, ``housing_intervention``, ``n_partners``,
``initiative_groups``, ``risk_instruments``, ``risk_assessed``, ``top_group``,
``goal_reached``, ``survey_answered``.
"""

from __future__ import annotations

import polars as pl

from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.diagrams import load_registry

CASE_KEY = ["unit", "case_id"]


def _cb(cb: Codebook | None) -> Codebook:
    return cb or codebook_module.load()


def _list_nonempty(column: str) -> pl.Expr:
    """True when a multi-choice list has at least one code (null and [] count as none)."""
    return pl.col(column).list.len().fill_null(0) > 0


def age_group(cb: Codebook | None = None) -> pl.Expr:
    """Age group (docs/data-contract.md: 18–24, …, 75–) from Ålder (15), labels and inclusive bounds from the
    codebook's ``derived.age_groups``; null when age is missing or below the first group
    (a case under ``derived.adult_age`` is not an adult case and is excluded upstream)."""
    groups = _cb(cb).derived["age_groups"]
    expr = None
    for g in groups:
        cond = pl.col("age") >= g["min"]
        if g["max"] is not None:
            cond = cond & (pl.col("age") <= g["max"])
        expr = (pl.when(cond) if expr is None else expr.when(cond)).then(pl.lit(g["label"]))
    return expr.otherwise(pl.lit(None, pl.String)).alias("age_group")


def is_closed() -> pl.Expr:
    """Closed (data contract): Datum för när ärendet avslutats (256) present and valid
    (the compiled table holds only parsed, valid dates)."""
    return pl.col("closed").is_not_null().alias("is_closed")


def duration_days() -> pl.Expr:
    """Case duration in days, inclusive (data contract): closed − opened + 1, so a case
    closed the day it opened lasts 1 day; null unless both dates are valid and
    closed ≥ opened."""
    days = (pl.col("closed") - pl.col("opened")).dt.total_days() + 1
    return (
        pl.when(
            pl.col("closed").is_not_null() & pl.col("opened").is_not_null() & (pl.col("closed") >= pl.col("opened"))
        )
        .then(days)
        .otherwise(None)
        .cast(pl.Int32)
        .alias("duration_days")
    )


def duration_bin(cb: Codebook | None = None) -> pl.Expr:
    """Duration bin (data contract): 90-day bins 1–90, 91–180, …, 631–720 and 721–
    (width ``derived.duration_bin_days``, open bin from ``duration_open_bin_from``);
    labels from ``Codebook.duration_bin_labels()``; null when duration is null."""
    c = _cb(cb)
    width = c.derived["duration_bin_days"]
    labels = c.duration_bin_labels()
    index = ((pl.col("duration_days") - 1) // width).clip(0, len(labels) - 1)
    return index.replace_strict(list(range(len(labels))), labels, default=None, return_dtype=pl.String).alias(
        "duration_bin"
    )


def n_interventions() -> pl.Expr:
    """Number of interventions (data contract): count of selected options of Stöd och
    insatser (118), honour-specific options included, Kommentar never an option.
    Decision: a case with no option chosen (null list) has 0 interventions."""
    return pl.col("interventions").list.len().fill_null(0).cast(pl.Int16).alias("n_interventions")


def has_intervention() -> pl.Expr:
    """At least one intervention (diagram 1 'Fått insats', diagrams 9, 10, 23, 25)."""
    return (pl.col("n_interventions") >= 1).alias("has_intervention")


def housing_intervention(cb: Codebook | None = None) -> pl.Expr:
    """Housing-related intervention (data contract): any of ``derived.housing_interventions``
    (Skyddat boende, Hjälp med ny bostad, Byte av kommun, Tillfälligt boende); False
    when no intervention."""
    codes = _cb(cb).derived["housing_interventions"]
    return (
        pl.col("interventions")
        .list.eval(pl.element().is_in(codes))
        .list.any()
        .fill_null(False)
        .alias("housing_intervention")
    )


def n_partners(cb: Codebook | None = None) -> pl.Expr:
    """Number of collaboration partners (data contract): count of the chosen options
    ``derived.collaboration_partner_codes`` (1–9) of Samverkan (127); 0 when only
    Ingen samverkan is chosen; null when 127 is empty."""
    codes = _cb(cb).derived["collaboration_partner_codes"]
    count = pl.col("collaboration").list.eval(pl.element().is_in(codes)).list.sum()
    return pl.when(_list_nonempty("collaboration")).then(count).otherwise(None).cast(pl.Int16).alias("n_partners")


def initiative_groups(cb: Codebook | None = None) -> pl.Expr:
    """Initiative groups of diagram 6 (data contract): the labels of
    ``derived.initiative_groups`` whose codes the case chose in Initiativ (49), each
    group once, in the groups' order; null when 49 is empty.

    The groups a case chose are a bit mask, mapped to its list of labels: building the
    lists row by row (a list of when/then literals, nulls dropped) took 2 s of a million
    cases, the mask 0.15 s. The map has an entry per subset of the groups."""
    groups = _cb(cb).derived["initiative_groups"]
    if len(groups) > _MAX_MASKED_GROUPS:
        raise ValueError(f"derived.initiative_groups: at most {_MAX_MASKED_GROUPS} groups, not {len(groups)}")
    chosen = [
        pl.col("initiative").list.eval(pl.element().is_in(g["codes"])).list.any().cast(pl.UInt32) * (1 << i)
        for i, g in enumerate(groups)
    ]
    labels = {mask: [g["label"] for i, g in enumerate(groups) if mask >> i & 1] for mask in range(1 << len(groups))}
    return (
        pl.when(_list_nonempty("initiative"))
        .then(pl.sum_horizontal(chosen).replace_strict(labels, return_dtype=pl.List(pl.String)))
        .otherwise(None)
        .alias("initiative_groups")
    )


_MAX_MASKED_GROUPS = 16  # 65 536 subsets


def top_group(cb: Codebook | None = None) -> pl.Expr:
    """Top group, "går det bäst för" (data contract): Måluppföljning (192) = 1 AND
    Förändring våldsutsatthet (202) = 1 (``derived.top_group``). Decision: only closed
    cases (192/202 are registered after support; a value on an open case is a quality
    warning, not a result)."""
    cond = pl.col("is_closed")
    for variable, code in _cb(cb).derived["top_group"].items():
        cond = cond & (pl.col(variable) == code).fill_null(False)
    return cond.alias("top_group")


def goal_reached(cb: Codebook | None = None) -> pl.Expr:
    """Goal reached fully or partly (data contract): Måluppföljning (192) in
    ``derived.goal_reached_codes`` ({1, 2}); False otherwise (also when missing)."""
    codes = _cb(cb).derived["goal_reached_codes"]
    return pl.col("goal_followup").is_in(codes).fill_null(False).alias("goal_reached")


def survey_answered(cb: Codebook | None = None) -> pl.Expr:
    """Survey answered (diagram 1 'Genomfört brukarenkät'): closed and a valid value in
    at least one of ``derived.survey_variables`` (202, 203, 206, 212)."""
    names = _cb(cb).derived["survey_variables"]
    return (pl.col("is_closed") & pl.any_horizontal([pl.col(n).is_not_null() for n in names])).alias("survey_answered")


def risk_per_case(risk: pl.DataFrame) -> pl.DataFrame:
    """Per case in the risk table: ``risk_instruments`` = the distinct instrument codes
    over all its assessments (sorted; null when none is coded) and ``risk_assessed`` =
    True (data contract: at least one assessment, any instrument, including talk with
    the client without a method)."""
    return (
        risk.group_by(CASE_KEY)
        .agg(pl.col("instrument").drop_nulls().unique().sort().alias("risk_instruments"))
        .with_columns(
            pl.when(pl.col("risk_instruments").list.len() > 0)
            .then(pl.col("risk_instruments"))
            .otherwise(None)
            .cast(pl.List(pl.Int8)),
            pl.lit(True).alias("risk_assessed"),
        )
    )


def derive_cases(cases: pl.DataFrame, risk: pl.DataFrame, cb: Codebook | None = None) -> pl.DataFrame:
    """The compiled cases plus every derived column (see the module docstring)."""
    c = _cb(cb)
    per_case = risk_per_case(risk)
    return (
        cases.lazy()
        .with_columns(
            age_group(c),
            is_closed(),
            duration_days(),
            n_interventions(),
            housing_intervention(c),
            n_partners(c),
            initiative_groups(c),
            goal_reached(c),
        )
        .with_columns(duration_bin(c), has_intervention(), top_group(c), survey_answered(c))
        .join(per_case.lazy(), on=CASE_KEY, how="left", maintain_order="left")
        .with_columns(pl.col("risk_assessed").fill_null(False))
        .collect()
    )


RISK_CHANGE_SCHEMA = pl.Schema(
    {
        "unit": pl.String,
        "case_id": pl.String,
        "n_rated": pl.UInt32,
        "first_rating": pl.Int8,
        "last_rating": pl.Int8,
        "first_instrument": pl.Int8,
        "last_instrument": pl.Int8,
        "change": pl.Int16,
        "category": pl.String,
        "same_instrument": pl.Boolean,
        "instrument": pl.Int8,
    }
)


def risk_change(risk: pl.DataFrame, labels: dict[str, str] | None = None) -> pl.DataFrame:
    """Repeated-risk change (data contract): per case with ≥ 2 assessments that have a
    rating, the first and last such assessment ordered by date, then by position
    (undated assessments after dated ones); ``change`` = last − first rating;
    ``category`` = decreased / unchanged / increased (labels from the diagram
    registry: minskad / oförändrad / ökad); ``same_instrument`` when first and last
    use the same instrument, then ``instrument`` is that code (else null)."""
    if labels is None:
        labels = load_registry().labels["risk_change"]
    rated = risk.filter(pl.col("rating").is_not_null()).sort([*CASE_KEY, "date", "position"], nulls_last=True)
    out = (
        rated.group_by(CASE_KEY, maintain_order=True)
        .agg(
            pl.len().alias("n_rated"),
            pl.col("rating").first().alias("first_rating"),
            pl.col("rating").last().alias("last_rating"),
            pl.col("instrument").first().alias("first_instrument"),
            pl.col("instrument").last().alias("last_instrument"),
        )
        .filter(pl.col("n_rated") >= 2)
        .with_columns(
            (pl.col("last_rating").cast(pl.Int16) - pl.col("first_rating").cast(pl.Int16)).alias("change"),
            (pl.col("first_instrument") == pl.col("last_instrument")).fill_null(False).alias("same_instrument"),
        )
        .with_columns(
            pl.when(pl.col("change") < 0)
            .then(pl.lit(labels["decreased"]))
            .when(pl.col("change") == 0)
            .then(pl.lit(labels["unchanged"]))
            .otherwise(pl.lit(labels["increased"]))
            .alias("category"),
            pl.when(pl.col("same_instrument")).then(pl.col("first_instrument")).otherwise(None).alias("instrument"),
        )
        .sort(CASE_KEY)
    )
    return out.select([pl.col(k).cast(t) for k, t in RISK_CHANGE_SCHEMA.items()])
