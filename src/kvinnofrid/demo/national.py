"""A national-scale demo population: every municipality, several cumulative rounds.

``kvinnofrid demo --units 290 --cases 1000000 --rounds 2`` draws units from the
packaged register of all 290 municipalities and gives them realistic, heavy-tailed
sizes (inhabitants × log-normal noise), a few municipalities a second unit (an
Utförare beside the Myndighet, like Sigtuna). Unlike the calibrated demo
(``simulate``), whose exact quotas only make sense at n ≈ 3 000, the variables are
independent-ish random draws with shares close to the 2021–2023 report: what matters
here is scale, variety and a known truth, not the published numbers.

Rounds are cumulative: a unit's later export holds its earlier cases, updated (closed,
supported, assessed since). Some units skip a round, a few skip the final one (then
their latest earlier round is compiled), and a few cases registered in an earlier
round are deleted before a later one. The population is drawn so that exactly
``cases`` cases are compiled: each unit's cases are opened on or before the last
round the unit submits.

Everything is deterministic from the seed (numpy ``default_rng``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from kvinnofrid.demo.simulate import (
    DEMO_SEED,
    PERIOD_START,
    SUGGESTIONS,
    RoundSnapshot,
    as_registered,
    list_column,
    load_municipalities,
)
from kvinnofrid.spec import codebook
from kvinnofrid.spec.names import slug

__all__ = ["NationalSettings", "national_population", "national_rounds", "national_units", "round_dates"]

FINAL_ROUND = dt.date(2023, 10, 10)
# round dates by number of rounds; more than four are spread evenly over the last year
ROUND_DATES = {
    1: (FINAL_ROUND,),
    2: (dt.date(2023, 5, 15), FINAL_ROUND),
    3: (dt.date(2023, 2, 15), dt.date(2023, 5, 15), FINAL_ROUND),
    4: (dt.date(2022, 10, 10), dt.date(2023, 2, 15), dt.date(2023, 5, 15), FINAL_ROUND),
}
SECOND_UNIT_SHARE = 0.02  # municipalities with a second unit (an Utförare)
SKIP_ROUND_SHARE = 0.06  # units that skip an earlier round
SKIP_FINAL_SHARE = 0.02  # units that skip the final round
DELETED_SHARE = 0.0005  # cases of an earlier round deleted before the next one


@dataclass(frozen=True)
class NationalSettings:
    """Same settings → same population and same files."""

    units: int = 290  # municipalities (a few get a second unit on top)
    cases: int = 1_000_000  # compiled cases
    rounds: int = 2
    seed: int = DEMO_SEED
    period_start: dt.date = PERIOD_START


def round_dates(n_rounds: int) -> tuple[dt.date, ...]:
    """The submission rounds, the last on 2023-10-10 (the configured cut-off)."""
    if n_rounds < 1:
        raise ValueError("minst en omgång behövs (--rounds 1 eller fler)")
    if n_rounds in ROUND_DATES:
        return ROUND_DATES[n_rounds]
    first = dt.date(2022, 10, 10)
    step = (FINAL_ROUND - first).days / (n_rounds - 1)
    return tuple(first + dt.timedelta(days=round(i * step)) for i in range(n_rounds))


def national_units(settings: NationalSettings) -> pl.DataFrame:
    """One row per unit: unit (slug), kommun, municipality (the export's text),
    service_type, n_cases, last_round (index of the last round it submits) and
    submits (list of round indexes)."""
    rng = np.random.default_rng([settings.seed, 1])
    munis = load_municipalities()
    if not 1 <= settings.units <= munis.height:
        raise ValueError(f"--units ska vara 1–{munis.height} (kommuner i registret)")
    pick = np.sort(rng.choice(munis.height, settings.units, replace=False))
    munis = munis[pick.tolist()]
    n = munis.height
    pop = munis["invanare_ungefar"].to_numpy().astype(float)
    main_type = np.where(rng.random(n) < 0.62, 1, 3)
    n_second = max(1, round(SECOND_UNIT_SHARE * n)) if n >= 10 else 0
    second = rng.choice(n, n_second, replace=False, p=pop / pop.sum()) if n_second else np.empty(0, int)
    kommun = munis["kommun"].to_list()
    slugs = [slug(k) for k in kommun]
    seen: dict[str, int] = {}
    for i, s in enumerate(slugs):  # Håbo and Habo: one slug, two municipalities
        seen[s] = seen.get(s, 0) + 1
        if seen[s] > 1:
            slugs[i] = f"{s}-{munis['kommunkod'][i]}"
    rows = [
        dict(unit=slugs[i], kommun=kommun[i], municipality=kommun[i], service_type=int(main_type[i]), weight=pop[i])
        for i in range(n)
    ]
    rows += [
        dict(
            unit=f"{slugs[i]}-utforare", kommun=kommun[i], municipality=kommun[i], service_type=2, weight=pop[i] * 0.25
        )
        for i in second
    ]
    units = pl.DataFrame(rows).sort("unit")
    weight = units["weight"].to_numpy() * rng.lognormal(0.0, 0.6, units.height)
    return units.drop("weight").with_columns(
        n_cases=pl.Series(_sizes(weight, settings.cases), dtype=pl.Int64),
        **_submissions(rng, units.height, settings.rounds),
    )


def _sizes(weight: np.ndarray, total: int) -> np.ndarray:
    """Cases per unit ∝ weight (largest remainder), at least 3 where the total allows."""
    floor = min(3, total // weight.size)
    raw = weight / weight.sum() * (total - floor * weight.size)
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(-(raw - out), kind="stable")[: total - floor * weight.size - out.sum()]] += 1
    return out + floor


def _submissions(rng: np.random.Generator, n: int, n_rounds: int) -> dict[str, pl.Series]:
    """Which rounds each unit submits: most all of them; some skip an earlier round,
    a few the final one (never a unit's only round)."""
    submits = np.ones((n, n_rounds), bool)
    if n_rounds > 1:
        submits[:, :-1] &= rng.random((n, n_rounds - 1)) >= SKIP_ROUND_SHARE
        skip_final = (rng.random(n) < SKIP_FINAL_SHARE) & submits[:, :-1].any(axis=1)
        submits[skip_final, -1] = False
    last = n_rounds - 1 - np.argmax(submits[:, ::-1], axis=1)
    return dict(
        last_round=pl.Series(last, dtype=pl.Int8),
        submits=pl.Series([np.flatnonzero(s).tolist() for s in submits], dtype=pl.List(pl.Int8)),
    )


# ------------------------------------------------------------------ case variables
def _single(rng, n: int, shares, missing: float = 0.0) -> np.ndarray:
    """Codes 1..k with probability ∝ shares; 0 (missing) with probability ``missing``."""
    p = np.asarray(shares, float)
    codes = 1 + rng.choice(p.size, n, p=p / p.sum())
    return np.where(rng.random(n) < missing, 0, codes)


def _multi(rng, n: int, weights: dict[int, float], degree_shares, mask: np.ndarray) -> dict[int, np.ndarray]:
    """Per case (where ``mask``) 1..len(degree_shares) distinct options drawn ∝ weights
    (Gumbel top-k); returns a boolean column per option code."""
    codes = np.array(list(weights))
    logw = np.log(np.array(list(weights.values()), float))
    keys = logw + rng.gumbel(size=(n, codes.size))
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    degree = _single(rng, n, degree_shares)
    chosen = (rank < degree[:, None]) & mask[:, None]
    return {int(c): chosen[:, j] for j, c in enumerate(codes)}


def _exclusive(rng, n: int, mask: np.ndarray, only: dict[int, float]) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Options that stand alone ("Nej", "Vet ej", "Ingen samverkan"): drawn per case
    with the given probabilities among ``mask``; returns them and the cases left."""
    u = rng.random(n)
    out, low = {}, 0.0
    for code, p in only.items():
        out[code] = mask & (u >= low) & (u < low + p)
        low += p
    return out, mask & (u >= low)


def _list_series(chosen: dict[int, np.ndarray], n: int) -> pl.Series:
    return list_column({c: a for c, a in sorted(chosen.items()) if a.any()}, n)


def _codes(arr: np.ndarray, dtype=pl.Int8) -> pl.Series:
    return pl.Series(np.where(arr > 0, arr, 0), dtype=dtype).replace(0, None)


def _dates(start: dt.date, off: np.ndarray, present: np.ndarray) -> pl.Series:
    days = np.datetime64(start, "D") + off.astype("timedelta64[D]")
    return pl.Series(np.where(present, days, np.datetime64("NaT"))).cast(pl.Date)


def _background(rng, n: int) -> dict[str, np.ndarray | dict]:
    """Who the clients are and what they were exposed to."""
    everyone = np.ones(n, bool)
    impairment_only, impaired = _exclusive(rng, n, rng.random(n) >= 0.03, {4: 0.68, 5: 0.08})
    impairment = _multi(rng, n, {2: 0.7, 1: 0.17, 3: 0.13}, (95, 5), impaired) | impairment_only
    partner = _single(rng, n, (31, 59, 10), missing=0.0)
    partner = np.where(partner == 3, 0, partner)
    perp_known = rng.random(n) >= 0.01
    others = _multi(
        rng, n, {3: 241, 4: 151, 5: 67, 6: 271}, (90, 10), perp_known & ((partner == 0) | (rng.random(n) < 0.13))
    )
    perpetrator = {1: perp_known & (partner == 1), 2: perp_known & (partner == 2), **others}
    initiative_w = {
        1: 1779,
        2: 30,
        3: 250,
        4: 90,
        5: 289,
        6: 70,
        7: 25,
        8: 211,
        9: 3,
        10: 151,
        11: 60,
        12: 10,
        13: 90,
        14: 258,
    }
    return dict(
        sex=_single(rng, n, (93, 6.5), missing=0.005),
        age=np.where(rng.random(n) < 0.01, 0, np.minimum(18 + np.floor(rng.gamma(2.2, 8.0, n)), 92)).astype(int),
        origin=_single(rng, n, (57.4, 6.3, 8.3, 24.0, 4.0), missing=0.02),
        hrv=_single(rng, n, (10, 82.5, 5.5), missing=0.02),
        severity=_single(rng, n, (34, 46, 20), missing=0.04),
        impairment=impairment,
        children=_multi(rng, n, {1: 5, 2: 3, 3: 3, 4: 4, 5: 3, 6: 2, 7: 1}, (60, 30, 10), rng.random(n) < 0.35),
        initiative=_multi(rng, n, initiative_w, (90, 10), rng.random(n) >= 0.01),
        perpetrator=perpetrator,
        everyone=everyone,
    )


def _timeline(rng, last_off: np.ndarray) -> dict[str, np.ndarray]:
    """Opening (more cases later in the period), closing (log-normal duration, never
    after the unit's last round) and the last day anything can happen on."""
    n = last_off.size
    opened = np.floor(rng.random(n) ** 0.85 * (last_off + 1)).astype(int)
    closed_off = opened + np.floor(rng.lognormal(np.log(75), 1.0, n)).astype(int)
    is_closed = (closed_off <= last_off) & (rng.random(n) >= 0.04)
    end = np.where(is_closed, closed_off, last_off)
    return dict(opened=opened, closed=closed_off, is_closed=is_closed, end=end)


def _support(rng, b: dict, t: dict) -> dict:
    """Interventions, decision, collaboration and implementation."""
    n = t["opened"].size
    hrv = b["hrv"] == 1
    has_int = rng.random(n) < 0.86
    start = np.minimum(t["opened"] + np.floor(rng.random(n) ** 2 * 35).astype(int), t["end"])
    weights = {
        4: 1652,
        3: 1364,
        7: 734,
        10: 551,
        1: 472,
        8: 367,
        2: 341,
        13: 236,
        11: 184,
        19: 105,
        12: 105,
        9: 79,
        5: 79,
        14: 52,
        6: 52,
    }
    interventions = _multi(rng, n, weights, (35, 25, 18, 12, 6, 4), has_int)
    honour = _single(rng, n, (22, 4, 3, 9))
    honour_case = has_int & hrv & (rng.random(n) < 0.25)
    for j, code in enumerate((15, 16, 17, 18)):
        interventions[code] = honour_case & (honour == j + 1)
    none, partnered = _exclusive(rng, n, rng.random(n) < 0.75, {11: 0.35})
    collab_w = {7: 1140, 6: 298, 5: 298, 9: 234, 2: 125, 1: 78, 3: 16, 4: 16, 8: 7}
    collaboration = _multi(rng, n, collab_w, (68, 23, 6, 3), partnered) | none
    collaboration[8] &= hrv | (rng.random(n) < 0.01)
    return dict(
        has_int=has_int,
        start=start,
        interventions=interventions,
        collaboration=collaboration,
        decision=np.where(has_int, _single(rng, n, (47, 45, 8)), 0),
        change_goal=_single(rng, n, (27, 64, 3), missing=0.06),
        implementation=np.where(t["is_closed"] & has_int, _single(rng, n, (901, 392, 511, 177), 0.1), 0),
    )


def _closing(rng, t: dict) -> dict:
    """Closing reason, goal follow-up and the survey of the closed cases."""
    n, closed = t["opened"].size, t["is_closed"]
    respondent = closed & (rng.random(n) < 0.36)

    def answers(shares, missing=0.03):
        return np.where(respondent, _single(rng, n, shares, missing), 0)

    return dict(
        reason=np.where(closed, _single(rng, n, (765, 185, 742, 427, 138, 2, 162), 0.015), 0),
        goal=np.where(closed, _single(rng, n, (729, 458, 229, 125, 541), 0.15), 0),
        change=answers((418, 176, 67, 3, 8, 164)),
        importance=answers((8, 49, 82, 376, 131, 172)),
        positive=answers((620, 52, 140)),
        influence=answers((8, 31, 78, 345, 125, 197)),
        suggestion=np.where(respondent & (rng.random(n) < 0.28), rng.integers(0, len(SUGGESTIONS), n), -1),
    )


def _risk(rng, b: dict, t: dict, start: dt.date) -> pl.DataFrame:
    """1–3 assessments of the assessed cases (more often when honour-related): an
    instrument (sometimes alternating with a second), a date and mostly a rating."""
    n = t["opened"].size
    assessed = rng.random(n) < np.where(b["hrv"] == 1, 0.9, 0.55)
    cases = np.flatnonzero(assessed)
    u = rng.random(cases.size)
    count = 1 + (u > 0.62).astype(int) + (u > 0.88).astype(int)
    first = np.array([1, 6, 2, 3, 4, 5])[_single(rng, cases.size, (50, 42, 1, 1, 0.5, 1.5)) - 1]
    first = np.where((b["hrv"][cases] == 1) & (rng.random(cases.size) < 0.05), 3, first)
    second = np.where(rng.random(cases.size) < 0.1, np.where(first == 6, 1, 6), first)
    case_of = np.repeat(cases, count)
    seq = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    instrument = np.where(seq % 2 == 1, np.repeat(second, count), np.repeat(first, count))
    gaps = np.where(seq == 0, np.floor(rng.random(seq.size) * 15), 14 + np.floor(rng.random(seq.size) * 70))
    cum = np.cumsum(gaps)
    cum -= np.repeat(cum[np.cumsum(count) - count] - gaps[np.cumsum(count) - count], count)
    off = np.minimum(t["opened"][case_of] + cum.astype(int), t["end"][case_of])
    rated = (instrument != 6) | np.repeat(rng.random(cases.size) < 0.45, count)
    base = np.select([b["severity"][cases] == 3, b["severity"][cases] == 2], [6, 4], 2) + rng.integers(0, 4, cases.size)
    step = np.where(seq == 0, 0, np.where(rng.random(seq.size) < 0.7, -1, 1) * rng.integers(0, 3, seq.size))
    walk = np.cumsum(step)
    walk -= np.repeat(walk[np.cumsum(count) - count], count)
    rating = np.clip(np.repeat(base, count) + walk, 1, 10)
    return pl.DataFrame(
        {
            "case": case_of,
            "position": pl.Series(seq + 1, dtype=pl.Int8),
            "date": _dates(start, off, np.ones(off.size, bool)),
            "instrument": pl.Series(instrument, dtype=pl.Int8),
            "rating": _codes(np.where(rated, rating, 0)),
        }
    )


def _clients(rng, unit_idx: np.ndarray, opened: np.ndarray, sizes: np.ndarray) -> tuple[list[str], list[str]]:
    """A running client number per unit in opening order (cases sorted by unit, then
    opening); about 1 % are a returning client (an earlier case's client, opened
    earlier); handler codes, more handlers in larger units."""
    n = unit_idx.size
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    rank = np.arange(n) - np.repeat(first, sizes)
    client_no = rank + 1
    back = np.maximum(np.arange(n) - 2, 0)
    returning = (rank >= 2) & (rng.random(n) < 0.01) & (opened[back] < opened)
    client_no = np.where(returning, client_no[back], client_no)
    handler_no = 1 + np.floor(rng.random(n) * np.clip(sizes[unit_idx] // 40 + 1, 1, 40)).astype(int)
    return [f"K{c:06d}" for c in client_no], [f"HDL{h:02d}" for h in handler_no]


def national_population(settings: NationalSettings) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(units, cases, risk): every case as its unit has it registered at the last
    round the unit submits. ``cases`` is in the canonical schema plus ``case_no`` (a
    stable number for the export writer's per-case draws); ``risk`` is keyed by unit,
    client and opening date."""
    units = national_units(settings)
    dates = round_dates(settings.rounds)
    rng = np.random.default_rng([settings.seed, 2])
    sizes = units["n_cases"].to_numpy()
    unit_idx = np.repeat(np.arange(units.height), sizes)
    last_date = np.array([(dates[r] - settings.period_start).days for r in units["last_round"].to_list()])
    t = _timeline(rng, last_date[unit_idx])
    order = np.lexsort((t["opened"], unit_idx))  # cases in file order: unit, opening
    t = {k: v[order] for k, v in t.items()}
    b = _background(rng, unit_idx.size)
    s = _support(rng, b, t)
    c = _closing(rng, t)
    clients, handlers = _clients(rng, unit_idx, t["opened"], sizes)
    cases = _cases_frame(units, unit_idx, settings.period_start, b, t, s, c, clients, handlers)
    risk = _risk(rng, b, t, settings.period_start)
    risk = risk.with_columns(
        unit=cases["unit"].gather(risk["case"]),
        client=cases["client"].gather(risk["case"]),
        opened=cases["opened"].gather(risk["case"]),
    ).select("unit", "client", "opened", "position", "date", "instrument", "rating")
    return units, cases, risk


def _cases_frame(units, unit_idx, start, b, t, s, c, clients, handlers) -> pl.DataFrame:
    n = unit_idx.size
    closed = t["is_closed"]
    cases = pl.DataFrame(
        {
            "case_no": np.arange(n, dtype=np.int64),
            "unit": units["unit"].to_numpy()[unit_idx],
            "client": clients,
            "handler": handlers,
            "service_type": pl.Series(units["service_type"].to_numpy()[unit_idx], dtype=pl.Int8),
            "municipality": units["municipality"].to_numpy()[unit_idx],
            "opened": _dates(start, t["opened"], np.ones(n, bool)),
            "sex": _codes(b["sex"]),
            "age": _codes(b["age"], pl.Int16),
            "impairment": _list_series(b["impairment"], n),
            "origin": _codes(b["origin"]),
            "children_followup": _list_series(b["children"], n),
            "initiative": _list_series(b["initiative"], n),
            "perpetrator": _list_series(b["perpetrator"], n),
            "honour_violence": _codes(b["hrv"]),
            "violence_severity": _codes(b["severity"]),
            "change_goal": _codes(s["change_goal"]),
            "support_started": _dates(start, s["start"], s["has_int"]),
            "interventions": _list_series(s["interventions"], n),
            "decision_type": _codes(s["decision"]),
            "collaboration": _list_series(s["collaboration"], n),
            "implementation": _codes(s["implementation"]),
            "goal_followup": _codes(c["goal"]),
            "closed": _dates(start, t["closed"], closed),
            "closing_reason": _codes(c["reason"]),
            "survey_change": _codes(c["change"]),
            "survey_importance": _codes(c["importance"]),
            "survey_positive": _codes(c["positive"]),
            "survey_influence": _codes(c["influence"]),
            "survey_suggestions": pl.Series(
                [SUGGESTIONS[i] if i >= 0 else None for i in c["suggestion"]], dtype=pl.String
            ),
        }
    )
    schema = codebook.case_schema(codebook.load())
    return cases.select("case_no", "unit", "client", "handler", *schema.names(), "survey_suggestions").cast(
        dict(schema)
    )


def national_rounds(settings: NationalSettings) -> tuple[pl.DataFrame, list[RoundSnapshot]]:
    """(units, one snapshot per round). A round's snapshot holds the submitting units'
    cases as registered on the round date, plus a few cases deleted before the unit's
    next export (they vanish; compile warns about them)."""
    units, cases, risk = national_population(settings)
    dates = round_dates(settings.rounds)
    rng = np.random.default_rng([settings.seed, 3])
    snapshots = []
    for r, date in enumerate(dates):
        submitting = units.filter(pl.col("submits").list.contains(r))
        r_cases, r_risk = as_registered(cases.filter(pl.col("unit").is_in(submitting["unit"].implode())), risk, date)
        later = submitting.filter(pl.col("last_round") > r)["unit"]
        r_cases = pl.concat([r_cases, _deleted_cases(rng, r_cases, later, r, settings)])
        snapshots.append(
            RoundSnapshot(
                date,
                submitting.select("unit", "kommun", "municipality", "service_type"),
                r_cases.sort("unit", "opened", "client"),
                r_risk,
            )
        )
    return units, snapshots


def _deleted_cases(
    rng, r_cases: pl.DataFrame, units_with_later: pl.Series, r: int, settings: NationalSettings
) -> pl.DataFrame:
    """Open cases of units that submit again later, copied under a new client and a day
    earlier: registered now, deleted before the next export."""
    pool = r_cases.filter(
        pl.col("unit").is_in(units_with_later.implode())
        & pl.col("closed").is_null()
        & (pl.col("opened") > settings.period_start)
    )
    k = min(pool.height, max(1, round(DELETED_SHARE * r_cases.height))) if units_with_later.len() else 0
    picks = np.sort(rng.choice(pool.height, k, replace=False)) if k else np.empty(0, int)
    return pool[picks.tolist()].with_columns(
        case_no=pl.int_range(pl.len(), dtype=pl.Int64) + (10**9 * (r + 1)),
        client=pl.format("D{}{}", pl.lit(r), pl.int_range(pl.len()).cast(pl.String).str.zfill(5)),
        opened=pl.col("opened") - pl.duration(days=1),
    )
