"""Demo population: case-level SU-Kvinnofrid data calibrated to the 2021–2023 report.

Real exports are confidential, so the project ships invented cases whose national
tables reproduce the published report (``reference_values.yaml``; checked by
``kvinnofrid.demo.calibration``). This module builds the *canonical* frames of every
submission round (``docs/stages.md``, "simulate → export writer"); the export writer turns
them into files.

How the calibration is reached: not by independent random draws (at n ≈ 3 000 a
Bernoulli share has a standard error of about 0.9 percentage points), but by exact
quotas. For every variable the generator fixes how many cases get each value, within
strata where the report states a cross relation (HRV / not HRV, women / men, age
group, duration bin, ...), and lets seeded random keys decide *which* cases get them
(weighted sampling without replacement, Efraimidis–Spirakis). Weights carry the
qualitative relations (e.g. men less often very severe violence); quotas carry the
published numbers. Multi-choice variables get an exact number of options per case
("degree") and an exact number of cases per option. The number of interventions per
case is raked to the category means of diagram 10.

Municipality sizes come from ``municipalities.csv`` (column ``invanare_ungefar``):
the inhabitant figures are approximate (2023, rounded) and only used for size classes
(e.g. about 40 % of cases from municipalities with 40 000–99 999 inhabitants, a lower
HRV share in the smallest municipalities). Client identifiers, handler codes and the
improvement suggestions are invented; nothing refers to real people.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field, replace
from importlib import resources

import numpy as np
import polars as pl

from kvinnofrid.spec import codebook

__all__ = [
    "DEMO_SEED",
    "PERIOD_END",
    "PERIOD_START",
    "UNITS",
    "RoundSnapshot",
    "SimulationSettings",
    "load_municipalities",
    "simulate_rounds",
    "units_frame",
]

# The demo defaults: the seed (config.yaml demo.seed) and the follow-up period of the
# 2021–2023 report. The export writer uses the same ones.
DEMO_SEED = 20231010
PERIOD_START = dt.date(2022, 1, 1)
PERIOD_END = dt.date(2023, 10, 10)


@dataclass(frozen=True)
class SimulationSettings:
    """Everything that decides the demo population; same settings → same frames."""

    seed: int = DEMO_SEED
    period_start: dt.date = PERIOD_START
    period_end: dt.date = PERIOD_END
    # (submission date, number of units submitting); the last round is the final one
    rounds: tuple[tuple[dt.date, int], ...] = (
        (dt.date(2023, 5, 15), 32),
        (dt.date(2023, 10, 10), 34),
    )
    n_cases: int = 3070
    # units that only submit in the final round (slugs)
    final_only_units: tuple[str, ...] = ("vallentuna", "varnamo")
    # cases registered in an earlier round but deleted before the final one
    n_deleted_cases: int = 3
    # open cases that nevertheless carry survey answers / a goal follow-up (warnings)
    n_open_with_survey: int = 5
    n_open_with_goal: int = 3


@dataclass(frozen=True)
class RoundSnapshot:
    round: dt.date
    units: pl.DataFrame
    cases: pl.DataFrame
    risk: pl.DataFrame = field(repr=False)


# --------------------------------------------------------------------------- units
# (slug, kommun, enhet as in the participants list, municipality text, service type,
#  number of cases in the final round). 34 units; Sigtuna and Stockholm have two each.
UNITS: tuple[tuple[str, str, str, str, int, int], ...] = (
    ("arboga", "Arboga", "socialförvaltningen, IFO Socialtjänst", "Arboga", 1, 30),
    ("arvika", "Arvika", "Lärande och stöd, IFO Vuxenenheten", "Arvika", 1, 50),
    ("boden", "Boden", "socialförvaltningen, IFO", "Boden", 1, 45),
    ("eksjo", "Eksjö", "Sociala sektorn, IFO/Biståndsenheten", "Eksjö", 1, 35),
    ("falkoping", "Falköping", "socialförvaltningen, Vuxenenheten", "Falköping", 1, 51),
    ("haninge", "Haninge", "social- och äldreförvaltningen, Relationsvåldsteamet", "Haninge", 3, 150),
    ("huddinge", "Huddinge", "IFO, Enheten mot våld i nära relationen", "Huddinge", 1, 190),
    ("kalix", "Kalix", "socialförvaltningen, IFO", "Kalix", 1, 32),
    ("kalmar", "Kalmar", "socialförvaltningen, Alternativ Till Våld", "Kalmar", 2, 130),
    ("karlskoga", "Karlskoga", "socialförvaltning, Vuxen", "Karlskoga", 1, 55),
    ("koping", "Köping", "social- och arbetsmarknadsförvaltningen, Myndighet", "Köping", 1, 45),
    (
        "linkoping",
        "Linköping",
        "social- och omsorgsförvaltningen, Mottagningen vuxna, Våld i nära relationer",
        "Linköping",
        1,
        300,
    ),
    ("ljungby", "Ljungby", "socialförvaltningen, IFO, myndighetsutövning vuxet våld i nära relation", "Ljungby", 1, 40),
    ("lulea", "Luleå", "socialförvaltning, Myndighetsutövning", "Luleå", 1, 120),
    (
        "nykoping",
        "Nyköping",
        "Division social omsorg, Familjefridsmottagningen, Vuxenenheten Våld i nära relationer",
        "Nyköping",
        3,
        110,
    ),
    ("nynashamn", "Nynäshamn", "socialförvaltningen, Myndighet IFO Vuxen", "Nynäshamn", 1, 48),
    ("pitea", "Piteå", "socialtjänsten, Våld i nära relationer", "Piteå", 3, 70),
    ("sigtuna-myndighet", "Sigtuna", "IFO, Våld i nära relation", "Sigtuna", 1, 85),
    ("sigtuna-kvinnojour", "Sigtuna", "Kvinnojouren Sigtuna (ideell verksamhet)", "Sigtuna", 2, 35),
    ("skelleftea", "Skellefteå", "IFO, Centrum mot våld", "Skellefteå", 3, 130),
    ("skovde", "Skövde", "socialtjänst, Vuxenenhet", "Skövde", 1, 95),
    (
        "stockholm-enskede-arsta-vantor",
        "Stockholm",
        "Enskede-Årsta-Vantör, Relationsvåldsteamet",
        "Enskede-Årsta-Vantör",
        1,
        150,
    ),
    ("stockholm-shis", "Stockholm", "SHIS Bostäder, VO3", "Stockholm", 2, 40),
    ("sundbyberg", "Sundbyberg", "social- och arbetsmarknad, Relationsvåldsteamet (Öppenvård)", "Sundbyberg", 2, 75),
    ("surahammar", "Surahammar", "socialförvaltningen, IFO/VIR", "Surahammar", 1, 22),
    ("sodertalje", "Södertälje", "socialförvaltningen, Relationsvåldscenter", "Södertälje", 3, 230),
    ("torsas", "Torsås", "socialförvaltningen, Öppenvården", "Torsås", 2, 27),
    ("trelleborg", "Trelleborg", "socialförvaltningen, Familjevåldsgruppen, Råd och stödenheten", "Trelleborg", 1, 80),
    (
        "uppsala",
        "Uppsala",
        "socialnämnden, Nexus – enheten för våld i nära relation samt Tildagården",
        "Uppsala",
        3,
        340,
    ),
    ("vallentuna", "Vallentuna", "socialförvaltningen, Vuxen och funktionsvariation", "Vallentuna", 1, 42),
    ("vetlanda", "Vetlanda", "socialförvaltningen, Mottagningsenheten", "Vetlanda", 1, 38),
    ("varmdo", "Värmdö", "socialförvaltningen, IFO", "Värmdö", 1, 60),
    ("varnamo", "Värnamo", "medborgarförvaltningen, Familjefrid", "Värnamo", 2, 32),
    (
        "ostersund",
        "Östersund",
        "social- och arbetsmarknadsförvaltningen, Team våld i nära relationer",
        "Östersund",
        1,
        88,
    ),
)
# The small unit whose top-group share (goal reached AND much improved) is about 26 %.
BEST_UNIT = "torsas"
BEST_UNIT_TOP_SHARE = 0.26
BEST_UNIT_CLOSED = 23

SUGGESTIONS = (
    "Mer tid med handläggaren",
    "Snabbare svar när jag ringer",
    "Tydligare information från början",
    "Fler samtal efter flytten",
    "Samma kontaktperson hela tiden",
    "Hjälp med tolk tidigare",
    "Bättre samordning med polisen",
    "Stöd även på kvällar",
    "Mer hjälp med boendet",
    "Gruppsamtal med andra i samma situation",
    "Kortare väntetid till första samtalet",
    "Mer information om mina rättigheter",
    "Hjälp med kontakt med Försäkringskassan",
    "Uppföljning några månader efteråt",
    "Enklare blanketter",
)

# ----------------------------------------------------------------- generator targets
# Counts derived from the published values of the report (reference_values.yaml holds
# the published numbers themselves; these are the integer quotas that reproduce them).
AGE_BOUNDS = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 92))
# age group quotas per stratum (7 groups); "other" = HRV Vet inte / missing
AGE_QUOTA = {
    ("man", "hrv"): (10, 7, 2, 0, 0, 0, 0),
    ("woman", "hrv"): (91, 94, 60, 27, 5, 0, 0),
    ("man", "nej"): (21, 37, 38, 24, 17, 8, 5),
    ("woman", "nej"): (199, 749, 806, 371, 122, 54, 20),
    ("nosex", "nej"): (1, 4, 5, 2, 1, 0, 0),
    ("man", "other"): (2, 4, 4, 2, 2, 1, 0),
    ("woman", "other"): (37, 73, 47, 25, 3, 9, 17),
}
# sex × HRV cell sizes: (Ja, Nej, Vet inte, missing)
SEX_HRV = {"woman": (285, 2340, 160, 73), "man": (19, 155, 11, 5), "nosex": (0, 14, 3, 5)}
# The published denominators (3 017 valid; HRV 284, Ej HRV 2 405) leave 328 valid
# origins for the 257 cases without Ja/Nej on HRV; the generator uses 3 004 = 284 +
# 2 470 + 250 (all within 3 % of the published denominators).
ORIGIN_SHARES = (57.4, 6.3, 8.3, 24.0, 4.0)
ORIGIN_HRV = (23, 62, 23, 165, 11)  # HRV with valid origin: 284
ORIGIN_NEJ_VALID = 2470
ORIGIN_OTHER_VALID = 250
SEVERITY_TOTAL = (991, 1341, 584)  # valid 2 916
SEVERITY_HRV_SHARE = (0.20, 0.43, 0.37)
SEVERITY_1824_SHARE = (0.27, 0.50, 0.23)
# opening dates: closed cases' opening offsets are U**skew of the latest possible one
# (skew < 1: more cases later in the period); open cases are mostly recent. Tuned so
# the interim round has about 2 090 cases, 1 530 closed and 570 with survey answers.
CLOSED_OPENING_SKEW = 0.9
OPEN_RECENT_SHARE = 0.97
OPEN_RECENT_DAYS = 140
EARLY_RESPONDENT_WEIGHT = 2.2  # survey answers more often on cases closed before the interim round
DURATION_BINS = (1162, 640, 305, 153, 97, 52, 31, 16)  # closed 2 456, shares of diagram 16
# closing reasons per duration bin: (A = 1 goal reached, B = 3 declined, C = 4 not returned)
REASON_ABC_BY_BIN = (
    (183, 445, 244),
    (170, 205, 124),
    (142, 61, 41),
    (91, 16, 18),
    (88, 8, 0),
    (48, 4, 0),
    (28, 2, 0),
    (15, 1, 0),
)
REASON_OTHER = {2: 185, 7: 162, 5: 138, 6: 2}  # + 35 closed without a reason
GOAL = {1: 729, 2: 458, 3: 229, 4: 125, 5: 541}  # valid 2 082 of closed
N_TOP = 268
N_RESPONDENTS = 878
SURVEY_CHANGE = {1: 418, 2: 176, 3: 67, 4: 3, 5: 8, 6: 164}  # 836
SURVEY_IMPORTANCE = {5: 131, 4: 376, 6: 172, 3: 82, 2: 49, 1: 8}  # 818
SURVEY_INFLUENCE = {5: 125, 4: 345, 6: 197, 3: 78, 2: 31, 1: 8}  # 784
SURVEY_POSITIVE = {1: 620, 3: 140, 2: 52}
IMPLEMENTATION = {1: 901, 3: 511, 2: 392, 4: 177}  # 1 981
WITH_INTERVENTION = {"hrv": 279, "nej": 2190, "other": 154}  # 2 623
MEN_WITH_INTERVENTION = 159
RISK_ASSESSED = {("hrv", True): 185, ("hrv", False): 16, ("rest", True): 1260, ("rest", False): 279}
INTERVENTIONS = {
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
INTERVENTIONS_HRV_FIXED = {4: 145, 7: 126, 10: 106, 1: 84, 12: 25, 15: 22, 16: 4, 17: 3, 18: 9}
STODSAMTAL_NEJ = 1445
INTERVENTION_MEANS = {  # diagram 10 targets for the raking of the number of interventions
    "hrv": 3.29,
    "nej": 2.33,
    "goal1": 3.0,
    "outside_europe": 2.9,
    "age1824": 2.9,
    "sev3": 2.8,
    "assessed": 2.8,
    "not_assessed": 2.02,
    "intellectual": 2.6,
    "origin1": 2.2,
    "sev1": 2.1,
    "age6574": 1.92,
    "top": 2.25,
    "respondent": 2.25,
    "man": 2.44,
}
INITIATIVE_GROUPS = {  # group → (cases, {code: cases})
    "self": (1779, {1: 1779}),
    "social": (724, {3: 250, 4: 90, 5: 289, 6: 70, 7: 25}),
    "other": (271, {9: 3, 12: 10, 14: 258}),
    "police": (211, {8: 211}),
    "health": (151, {10: 151}),
    "relative": (90, {13: 90}),
    "shelter": (60, {11: 60}),
    "partner": (30, {2: 30}),
}
INITIATIVE_DEGREE = {1: 2714, 2: 301}  # 3 015 cases, 3 316 answers
IMPAIRMENT = {2: 440, 1: 110, 3: 83}  # cases with 1–3: 600 (33 with two)
IMPAIRMENT_DEGREE = {1: 567, 2: 33}
IMPAIRMENT_OTHER = {5: 220, 4: 1930}  # Vet ej, Nej
PERPETRATOR_CASES = 3013
PERPETRATOR_PARTNER = {2: 1778, 1: 934}  # current XOR former: 2 712 = 90 %
PERPETRATOR_OTHER = {3: 241, 4: 151, 5: 67, 6: 271}  # 730 answers, filled in this order
# 301 cases without a partner (31 of them with two other perpetrators); 390 partner
# cases with another perpetrator too (8 of them with two)
PERPETRATOR_EXTRA = {"no_partner_two": 31, "partner_extra": 390, "partner_two_extra": 8}
COLLABORATION = {7: 1140, 6: 298, 5: 298, 9: 234, 2: 125, 1: 78, 3: 16, 4: 16, 8: 7}
COLLABORATION_DEGREE = {1: 1068, 2: 364, 3: 100, 4: 29}  # 1 561 cases with partners
N_COLLABORATION_NONE = 810  # recorded 2 371
# of the cases with two or more rated assessments: share whose last rating = first
UNCHANGED_RATING_SHARE = 0.52
# risk: instrument combination per assessed case (1 FREDA, 2 SARA, 3 Patriark, 4 SAM,
# 5 annan metod, 6 samtal utan metod); 1 740 assessed cases
RISK_COMBOS = {(1,): 837, (6,): 752, (1, 6): 94, (1, 2): 6, (2,): 6, (1, 3): 6, (3,): 8, (5,): 25, (4,): 6}


# ------------------------------------------------------------------ small helpers
def _pick(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k indices drawn without replacement with probability ∝ weights (> 0 only)."""
    w = np.asarray(weights, dtype=float)
    eligible = np.flatnonzero(w > 0)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k > eligible.size:
        raise ValueError(f"cannot pick {k} of {eligible.size} eligible cases")
    keys = np.log(rng.random(eligible.size)) / w[eligible]
    return eligible[np.argpartition(-keys, k - 1)[:k]]


def _assign(
    rng, values: np.ndarray, eligible: np.ndarray, quotas: dict[int, int], weights: dict[int, np.ndarray] | None = None
) -> None:
    """Give exactly quotas[code] of the eligible, still unassigned (-1) cases each code,
    in the dict's order, chosen with the code's weights. Modifies ``values``."""
    weights = weights or {}
    for code, count in quotas.items():
        free = eligible & (values == -1)
        w = free * weights.get(code, np.ones(values.size))
        values[_pick(rng, w, count)] = code


def _largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    raw = np.asarray(shares, float) / np.sum(shares) * total
    out = np.floor(raw).astype(int)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


def _degrees(rng, eligible: np.ndarray, quotas: dict[int, int], weights=None) -> np.ndarray:
    """Number of options per case: exact counts per degree among the eligible cases."""
    deg = np.full(eligible.size, -1)
    _assign(rng, deg, eligible, dict(sorted(quotas.items(), reverse=True)), weights)
    deg[deg < 0] = 0
    return deg


def _fill_options(
    rng,
    capacity: np.ndarray,
    quotas: dict[int, int],
    mult: dict[int, np.ndarray] | None = None,
    exclusive: tuple[set[int], float] | None = None,
    chosen: dict[int, np.ndarray] | None = None,
    keep_order: bool = False,
) -> dict[int, np.ndarray]:
    """Choose exactly quotas[code] cases per option among cases with free capacity, so
    that case i ends with ``capacity[i]`` options (greedy, largest option first,
    weights ∝ remaining capacity × multiplier). ``exclusive`` = (codes, factor) damps a
    second option of the same group on one case. ``keep_order``: fill the options in
    the dict's order instead of largest first."""
    cap = capacity.astype(float).copy()
    chosen = chosen if chosen is not None else {}
    mult = mult or {}
    items = list(quotas.items()) if keep_order else sorted(quotas.items(), key=lambda kv: -kv[1])
    for code, count in items:
        have = chosen.setdefault(code, np.zeros(cap.size, bool))
        w = np.where(have, 0.0, cap) * mult.get(code, 1.0)
        if exclusive and code in exclusive[0]:
            in_group = np.zeros(cap.size, bool)
            for other in exclusive[0]:
                if other in chosen and other != code:
                    in_group |= chosen[other]
            w = np.where(in_group, w * exclusive[1], w)
        count = min(count, int(np.count_nonzero(w > 0)))
        idx = _pick(rng, w, count)
        have[idx] = True
        cap[idx] -= 1
    return chosen


def list_column(chosen: dict[int, np.ndarray], n: int) -> pl.Series:
    """Boolean matrix per code → List(Int8) of sorted chosen codes, null when none."""
    codes = sorted(chosen)
    if not codes:
        return pl.Series([None] * n, dtype=pl.List(pl.Int8))
    frame = pl.DataFrame({f"c{c}": chosen[c] for c in codes})
    expr = pl.concat_list(
        [pl.when(pl.col(f"c{c}")).then(pl.lit(c, pl.Int8)).otherwise(None) for c in codes]
    ).list.drop_nulls()
    out = frame.select(pl.when(expr.list.len() > 0).then(expr).otherwise(None).alias("x"))["x"]
    return out.cast(pl.List(pl.Int8))


def load_municipalities() -> pl.DataFrame:
    """municipalities.csv: kommun, kommunkod (4-digit text), lan, invanare_ungefar."""
    text = resources.files("kvinnofrid.spec").joinpath("municipalities.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return pl.DataFrame(rows).with_columns(pl.col("invanare_ungefar").cast(pl.Int64))


def units_frame() -> pl.DataFrame:
    """The demo units (UNITS) with their län and approximate inhabitants."""
    munis = load_municipalities()
    units = pl.DataFrame(
        {
            "unit": [u[0] for u in UNITS],
            "kommun": [u[1] for u in UNITS],
            "enhet": [u[2] for u in UNITS],
            "municipality": [u[3] for u in UNITS],
            "service_type": pl.Series([u[4] for u in UNITS], dtype=pl.Int8),
            "n_cases": [u[5] for u in UNITS],
        }
    )
    units = units.join(munis.select("kommun", "lan", "invanare_ungefar"), on="kommun", how="left")
    if units["lan"].null_count():
        raise ValueError("a unit's kommun is missing from municipalities.csv")
    return units


# ------------------------------------------------------------------ the population
# Every step below takes the generator and the arrays it needs and returns new arrays
# (one entry per case). The steps must run in this order: each consumes the shared
# generator, so reordering them (or a draw inside them) changes the whole demo set.
@dataclass(frozen=True)
class _Background:
    """Who the client is and what she or he was exposed to."""

    unit_idx: np.ndarray  # index into the units frame
    sex: np.ndarray  # codebook code, -1 missing
    hrv: np.ndarray  # honour violence: 1 Ja, 2 Nej, 3 Vet inte, 0 missing
    age_group: np.ndarray  # index into AGE_BOUNDS, -1 missing
    age: np.ndarray  # years, -1 missing
    origin: np.ndarray
    severity: np.ndarray
    perpetrator: dict[int, np.ndarray]
    initiative: dict[int, np.ndarray]
    impairment: dict[int, np.ndarray]
    children: dict[int, np.ndarray]
    children_deg: np.ndarray  # number of children follow-up options

    @property
    def hrv_group(self) -> np.ndarray:
        return _hrv_group(self.hrv)

    @property
    def is_hrv(self) -> np.ndarray:
        return self.hrv == 1

    @property
    def is_man(self) -> np.ndarray:
        return self.sex == 2


@dataclass(frozen=True)
class _Timeline:
    """Opening and closing of the cases, as day offsets from the period start."""

    start: np.datetime64
    period_days: int
    closed_mask: np.ndarray
    dur_bin: np.ndarray  # 90-day duration bin of a closed case, -1 open
    duration: np.ndarray  # days, 0 open
    opened_off: np.ndarray

    @property
    def opened(self) -> np.ndarray:
        return self.start + self.opened_off.astype("timedelta64[D]")

    @property
    def closed(self) -> np.ndarray:
        return np.where(
            self.closed_mask, self.opened + (self.duration - 1).astype("timedelta64[D]"), np.datetime64("NaT")
        )

    @property
    def last_off(self) -> np.ndarray:
        """The last day a case is followed: its closing day, else the period's end."""
        return np.where(self.closed_mask, self.opened_off + self.duration - 1, self.period_days - 1)


@dataclass(frozen=True)
class _Closing:
    reason: np.ndarray
    top: np.ndarray  # top group: goal reached AND much improved
    goal: np.ndarray


@dataclass(frozen=True)
class _Survey:
    respondent: np.ndarray
    change: np.ndarray
    importance: np.ndarray
    influence: np.ndarray
    positive: np.ndarray


@dataclass(frozen=True)
class _Support:
    has_int: np.ndarray  # at least one intervention
    implementation: np.ndarray
    assessed: np.ndarray  # risk assessed
    interventions: dict[int, np.ndarray]
    collaboration: dict[int, np.ndarray]
    support_started: np.ndarray
    decision: np.ndarray
    change_goal: np.ndarray


@dataclass(frozen=True)
class _Identifiers:
    client_no: np.ndarray
    handler_no: np.ndarray
    suggestion_idx: np.ndarray  # index into SUGGESTIONS, -1 none


def _population(settings: SimulationSettings) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The final round's units, cases and risk assessments."""
    rng = np.random.default_rng(settings.seed)
    units = units_frame()
    sizes = units["n_cases"].to_numpy()
    if sizes.sum() != settings.n_cases:
        raise ValueError(f"unit sizes sum to {sizes.sum()}, not n_cases = {settings.n_cases}")
    background = _simulate_background(rng, units)
    timeline = _simulate_timeline(rng, settings, units, background.unit_idx)
    closing = _simulate_closing(rng, units, background, timeline)
    survey = _simulate_survey(rng, settings, background, timeline, closing)
    survey, closing = _with_open_case_answers(rng, settings, timeline.closed_mask, survey, closing)
    support = _simulate_support(rng, background, timeline, closing, survey)
    risk = _simulate_risk_assessments(rng, support.assessed, background, timeline)
    ids = _simulate_identifiers(rng, sizes, background.unit_idx, timeline.opened_off, survey.respondent)
    cases = _cases_frame(units, background, timeline, closing, survey, support, ids)
    risk = _risk_frame(risk, cases, units["unit"].to_numpy()[background.unit_idx])
    cases = cases.sort("unit", "opened", "client")
    risk = risk.sort("unit", "opened", "client", "position")
    return units.drop("n_cases", "invanare_ungefar"), cases, risk


def _hrv_group(hrv: np.ndarray) -> np.ndarray:
    return np.select([hrv == 1, hrv == 2], ["hrv", "nej"], "other")


# ------------------------------------------------------------------ background
def _simulate_background(rng: np.random.Generator, units: pl.DataFrame) -> _Background:
    unit_idx = rng.permutation(np.repeat(np.arange(len(units)), units["n_cases"].to_numpy()))
    inhabitants = units["invanare_ungefar"].to_numpy()[unit_idx]
    # HRV and origins abroad less often in the smallest municipalities
    city = np.select([inhabitants < 20000, inhabitants < 40000, inhabitants < 100000], [0.35, 0.8, 1.0], 1.35)
    sex, hrv = _simulate_sex_and_hrv(rng, len(units), unit_idx, city)
    age_group, age = _simulate_age(rng, sex, hrv)
    origin = _simulate_origin(rng, len(units), unit_idx, city, hrv)
    severity = _simulate_severity(rng, sex, hrv, age_group)
    perpetrator = _simulate_perpetrators(rng, sex, hrv, age)
    n = unit_idx.size
    initiative = _simulate_initiative(rng, n)
    impairment = _simulate_impairment(rng, n)
    children_deg, children = _simulate_children(rng, n)
    return _Background(
        unit_idx,
        sex,
        hrv,
        age_group,
        age,
        origin,
        severity,
        perpetrator,
        initiative,
        impairment,
        children,
        children_deg,
    )


def _simulate_sex_and_hrv(rng, n_units: int, unit_idx: np.ndarray, city: np.ndarray):
    """Sex × HRV in exact cells; HRV less often in the smallest municipalities."""
    n = unit_idx.size
    sex = np.full(n, -1)
    _assign(rng, sex, np.ones(n, bool), {2: sum(SEX_HRV["man"]), 1: sum(SEX_HRV["woman"])})
    hrv = np.full(n, -1)
    # units differ in their HRV and origin mix: a size effect plus a unit effect
    unit_effect = rng.lognormal(0.0, 0.35, n_units)[unit_idx]
    hrv_weights = {1: city * unit_effect}
    for key, code in (("woman", 1), ("man", 2), ("nosex", -1)):
        cells = SEX_HRV[key]
        _assign(rng, hrv, sex == code, {1: cells[0], 2: cells[1], 3: cells[2], 0: cells[3]}, hrv_weights)
    return sex, hrv


def _simulate_age(rng, sex: np.ndarray, hrv: np.ndarray):
    """Age group exact per sex × HRV cell, then the age in years within the group."""
    hrv_group = _hrv_group(hrv)
    sex_group = np.select([sex == 1, sex == 2], ["woman", "man"], "nosex")
    age_group = np.full(sex.size, -1)
    for (s, h), quota in AGE_QUOTA.items():
        _assign(rng, age_group, (sex_group == s) & (hrv_group == h), dict(enumerate(quota)))
    lo = np.array([b[0] for b in AGE_BOUNDS])
    hi = np.array([b[1] for b in AGE_BOUNDS])
    g = np.clip(age_group, 0, None)
    age = np.where(age_group >= 0, lo[g] + np.floor(rng.random(sex.size) * (hi[g] - lo[g] + 1)), -1).astype(int)
    return age_group, age


def _simulate_origin(rng, n_units: int, unit_idx: np.ndarray, city: np.ndarray, hrv: np.ndarray) -> np.ndarray:
    """Origin: exact for HRV; the rest split between Nej and the other HRV answers."""
    hrv_group = _hrv_group(hrv)
    origin = np.full(unit_idx.size, -1)
    abroad = city * rng.lognormal(0.0, 0.3, n_units)[unit_idx]
    origin_w = {2: abroad, 3: abroad, 4: abroad}
    _assign(rng, origin, hrv_group == "hrv", dict(zip(range(1, 6), ORIGIN_HRV)))
    origin_total = _largest_remainder(np.array(ORIGIN_SHARES), sum(ORIGIN_HRV) + ORIGIN_NEJ_VALID + ORIGIN_OTHER_VALID)
    rest_counts = origin_total - np.array(ORIGIN_HRV)
    nej_counts = _largest_remainder(rest_counts * np.array([1.02, 1, 1, 0.99, 0.7]), ORIGIN_NEJ_VALID)
    _assign(rng, origin, hrv_group == "nej", dict(zip((4, 3, 2, 5, 1), nej_counts[[3, 2, 1, 4, 0]])), origin_w)
    rest = rest_counts - nej_counts
    _assign(rng, origin, hrv_group == "other", dict(zip((4, 3, 2, 5, 1), rest[[3, 2, 1, 4, 0]])), origin_w)
    origin[origin == -1] = 0  # missing: the unassigned rest of the HRV and Nej strata
    return origin


def _simulate_severity(rng, sex: np.ndarray, hrv: np.ndarray, age_group: np.ndarray) -> np.ndarray:
    """Violence severity: exact for the HRV × age 18–24 cells; men less often very severe."""
    n = sex.size
    sev = np.full(n, -1)
    h = hrv == 1
    missing = _pick(rng, np.where(h, 0.5, 1.0), n - sum(SEVERITY_TOTAL))
    sev[missing] = 0
    valid = sev == -1
    y = age_group == 0
    cells = {key: valid & mask for key, mask in (("hy", h & y), ("hn", h & ~y), ("ny", ~h & y), ("nn", ~h & ~y))}
    hy = _largest_remainder(np.array(SEVERITY_HRV_SHARE), int(cells["hy"].sum()))
    hn = _largest_remainder(np.array(SEVERITY_HRV_SHARE), int(cells["hn"].sum()))
    y_total = _largest_remainder(np.array(SEVERITY_1824_SHARE), int((valid & y).sum()))
    ny = y_total - hy
    nn = np.array(SEVERITY_TOTAL) - hy - hn - ny
    man_w = {3: np.where(sex == 2, 0.45, 1.0), 1: np.where(sex == 2, 1.4, 1.0)}
    for key, counts in (("hy", hy), ("hn", hn), ("ny", ny), ("nn", nn)):
        _assign(rng, sev, cells[key], {3: counts[2], 1: counts[0], 2: counts[1]}, man_w)
    return sev


def _simulate_perpetrators(rng, sex: np.ndarray, hrv: np.ndarray, age: np.ndarray) -> dict[int, np.ndarray]:
    """A current XOR a former partner for 90 %; the other options as the only or an
    extra perpetrator. HRV → parents/relatives; men → parents/annan, fewer former partners."""
    n = sex.size
    h, man = hrv == 1, sex == 2
    has_perp = np.zeros(n, bool)
    has_perp[_pick(rng, np.ones(n), PERPETRATOR_CASES)] = True
    no_partner = np.zeros(n, bool)
    no_partner[
        _pick(
            rng,
            has_perp * np.where(h, 8.0, 1.0) * np.where(man, 2.5, 1.0) * np.where(age >= 55, 2.0, 1.0),
            PERPETRATOR_CASES - sum(PERPETRATOR_PARTNER.values()),
        )
    ] = True
    partner = np.full(n, -1)
    _assign(
        rng, partner, has_perp & ~no_partner, PERPETRATOR_PARTNER, {2: np.where(man, 0.55, 1.0) * np.where(h, 0.7, 1.0)}
    )
    extra = np.zeros(n, int)
    extra[no_partner] = 1
    extra[_pick(rng, no_partner * np.where(h, 3.0, 1.0), PERPETRATOR_EXTRA["no_partner_two"])] += 1
    with_extra = _pick(
        rng, (partner > 0) * np.where(h, 6.0, 1.0) * np.where(man, 2.0, 1.0), PERPETRATOR_EXTRA["partner_extra"]
    )
    extra[with_extra] += 1
    extra[_pick(rng, np.isin(np.arange(n), with_extra) * 1.0, PERPETRATOR_EXTRA["partner_two_extra"])] += 1
    perp_mult = {
        3: np.where(h, 14.0, 1.0) * np.where(man, 3.0, 1.0),
        4: np.where(h, 12.0, 1.0),
        6: np.where(man, 3.0, 1.0),
        5: np.where(age >= 55, 6.0, 1.0),
    }
    perpetrator = _fill_options(rng, extra, PERPETRATOR_OTHER, perp_mult, keep_order=True)
    perpetrator[1] = partner == 1
    perpetrator[2] = partner == 2
    return perpetrator


def _simulate_initiative(rng, n: int) -> dict[int, np.ndarray]:
    """Initiative (multi): first the groups of INITIATIVE_GROUPS, then a code within each."""
    has_init = np.zeros(n, bool)
    has_init[_pick(rng, np.ones(n), sum(INITIATIVE_DEGREE.values()))] = True
    deg = _degrees(rng, has_init, INITIATIVE_DEGREE)
    group_chosen = _fill_options(rng, deg, {i: v[0] for i, v in enumerate(INITIATIVE_GROUPS.values())})
    initiative: dict[int, np.ndarray] = {}
    for i, (_, codes) in enumerate(INITIATIVE_GROUPS.values()):
        members = group_chosen[i]
        code_of = np.full(n, -1)
        if members.sum() != sum(codes.values()):  # the greedy fill may fall short by a case
            codes = dict(zip(codes, _largest_remainder(np.array(list(codes.values())) * 1.0, int(members.sum()))))
        _assign(rng, code_of, members, codes)
        for code in codes:
            initiative[code] = code_of == code
    return initiative


def _simulate_impairment(rng, n: int) -> dict[int, np.ndarray]:
    """Impairment (multi): 1–2 of the impairment options, else Vet ej or Nej alone."""
    impairment_state = np.full(n, -1)  # 9 = has an impairment option
    n_impaired = sum(IMPAIRMENT_DEGREE.values())
    _assign(rng, impairment_state, np.ones(n, bool), {9: n_impaired, **IMPAIRMENT_OTHER})
    deg = _degrees(rng, impairment_state == 9, IMPAIRMENT_DEGREE)
    impairment = _fill_options(rng, deg, IMPAIRMENT)
    impairment[5] = impairment_state == 5
    impairment[4] = impairment_state == 4
    return impairment


def _simulate_children(rng, n: int) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Children follow-up (multi): a third of the cases, one or two options."""
    children_deg = np.where(rng.random(n) < 0.33, 1 + (rng.random(n) < 0.35), 0)
    children_q = _largest_remainder(np.array([12, 8, 10, 30, 22, 12, 6]), int(children_deg.sum()))
    return children_deg, _fill_options(rng, children_deg, dict(zip(range(1, 8), children_q)))


# ------------------------------------------------------------------ opening and closing
def _best_unit(units: pl.DataFrame) -> tuple[int, np.ndarray]:
    """BEST_UNIT's index and the mask of the other units."""
    best = int(np.flatnonzero(units["unit"].to_numpy() == BEST_UNIT)[0])
    return best, np.arange(len(units)) != best


def _simulate_timeline(rng, settings: SimulationSettings, units: pl.DataFrame, unit_idx: np.ndarray) -> _Timeline:
    """Closed cases, their durations (diagram 16) and the opening dates."""
    n = unit_idx.size
    start = np.datetime64(settings.period_start)
    period_days = (np.datetime64(settings.period_end) - start).astype(int) + 1
    closed_mask = _simulate_closed_cases(rng, units, unit_idx)
    dur_bin = np.full(n, -1)
    _assign(rng, dur_bin, closed_mask, dict(enumerate(DURATION_BINS)))
    bin_lo = dur_bin * 90 + 1
    duration = np.where(closed_mask, bin_lo + np.floor(rng.random(n) ** 1.3 * 90), 0).astype(int)
    duration = np.minimum(duration, period_days)
    latest_open = period_days - duration  # offset so that opened + duration - 1 <= end
    open_offset_closed = np.floor(latest_open * rng.random(n) ** CLOSED_OPENING_SKEW)
    recent = rng.random(n) < OPEN_RECENT_SHARE
    open_offset_open = np.where(
        recent, period_days - 1 - np.floor(rng.random(n) * OPEN_RECENT_DAYS), np.floor(rng.random(n) * period_days)
    )
    opened_off = np.where(closed_mask, open_offset_closed, open_offset_open).astype(int)
    return _Timeline(start, period_days, closed_mask, dur_bin, duration, opened_off)


def _simulate_closed_cases(rng, units: pl.DataFrame, unit_idx: np.ndarray) -> np.ndarray:
    """Which cases are closed: BEST_UNIT_CLOSED in the best unit, the rest by unit size."""
    sizes = units["n_cases"].to_numpy()
    best, rest_units = _best_unit(units)
    closed_per_unit = np.zeros(len(units), int)
    closed_per_unit[best] = BEST_UNIT_CLOSED
    closed_per_unit[rest_units] = _largest_remainder(sizes[rest_units] * 1.0, sum(DURATION_BINS) - BEST_UNIT_CLOSED)
    closed_mask = np.zeros(unit_idx.size, bool)
    for u in range(len(units)):
        members = unit_idx == u
        closed_mask[_pick(rng, members * 1.0, int(closed_per_unit[u]))] = True
    return closed_mask


def _simulate_closing(rng, units: pl.DataFrame, background: _Background, timeline: _Timeline) -> _Closing:
    """How the closed cases ended: closing reason, top group, goal follow-up."""
    reason = _simulate_closing_reason(rng, timeline, background.is_hrv)
    top = _simulate_top_group(rng, units, background, timeline.closed_mask, reason)
    goal = _simulate_goal(rng, background, timeline, reason, top)
    return _Closing(reason, top, goal)


def _simulate_closing_reason(rng, timeline: _Timeline, h: np.ndarray) -> np.ndarray:
    """Closing reason by duration bin (diagram 17)."""
    dur_bin, closed_mask = timeline.dur_bin, timeline.closed_mask
    reason = np.full(h.size, -1)
    for b, (a, bb, c) in enumerate(REASON_ABC_BY_BIN):
        _assign(rng, reason, dur_bin == b, {1: a, 3: bb, 4: c})
    others = closed_mask & (reason == -1)
    short = np.where(dur_bin <= 1, 2.0, 0.6)
    _assign(rng, reason, others, REASON_OTHER, {2: short * np.where(h, 0.3, 1.0)})
    reason[reason == -1] = 0
    reason[~closed_mask] = 0
    return reason


def _simulate_top_group(
    rng, units: pl.DataFrame, background: _Background, closed_mask: np.ndarray, reason: np.ndarray
) -> np.ndarray:
    """The top group, exact per unit (the best unit ≈ BEST_UNIT_TOP_SHARE)."""
    unit_idx = background.unit_idx
    best, rest_units = _best_unit(units)
    closed_by_unit = np.bincount(unit_idx[closed_mask], minlength=len(units))
    best_quota = round(BEST_UNIT_TOP_SHARE * closed_by_unit[best])
    quota = np.zeros(len(units), int)
    quota[rest_units] = _largest_remainder(closed_by_unit[rest_units] * 1.0, N_TOP - best_quota)
    quota[best] = best_quota
    perp_former = background.perpetrator[2]
    top_w = (
        np.select([reason == 1, reason == 2], [6.0, 0.05], 1.0)
        * np.where(perp_former, 1.4, 0.8)
        * np.where(background.impairment[4], 1.3, 0.8)
    )
    top = np.zeros(unit_idx.size, bool)
    for u in range(len(units)):
        top[_pick(rng, closed_mask * (unit_idx == u) * top_w, int(quota[u]))] = True
    return top


def _simulate_goal(
    rng, background: _Background, timeline: _Timeline, reason: np.ndarray, top: np.ndarray
) -> np.ndarray:
    """Goal follow-up of the closed cases: the top group has reached its goal."""
    closed_mask, h, man = timeline.closed_mask, background.is_hrv, background.is_man
    goal = np.full(top.size, -1)
    goal[top] = 1
    n_goal_missing = int(closed_mask.sum()) - sum(GOAL.values())
    miss_w = np.select([reason == 2, reason == 0, reason == 4], [5.0, 4.0, 1.5], 1.0)
    goal[_pick(rng, closed_mask * ~top * miss_w, n_goal_missing)] = 0
    goal_w = {
        1: np.select([reason == 1], [8.0], 1.0) * (1 + timeline.duration / 300) * np.where(h, 1.25, 1.0),
        4: np.where(reason == 1, 0.2, 1.0) * np.where(h, 0.5, 1.0) * np.where(man, 0.4, 1.0),
        2: np.where(reason == 1, 2.0, 1.0),
        3: np.where(reason == 1, 0.5, 1.0),
    }
    _assign(rng, goal, closed_mask, {1: GOAL[1] - N_TOP, 4: GOAL[4], 2: GOAL[2], 3: GOAL[3], 5: GOAL[5]}, goal_w)
    goal[goal == -1] = 0
    return goal


# ------------------------------------------------------------------ survey
def _simulate_survey(
    rng, settings: SimulationSettings, background: _Background, timeline: _Timeline, closing: _Closing
) -> _Survey:
    """Survey answers of the closed cases' respondents (-1: not yet decided)."""
    top, goal = closing.top, closing.goal
    respondent = _simulate_respondents(rng, settings, background, timeline, closing)
    change = np.full(top.size, -1)
    change[top] = 1
    change_missing = N_RESPONDENTS - sum(SURVEY_CHANGE.values())
    change[_pick(rng, respondent * ~top * 1.0, change_missing)] = 0
    change_w = {
        1: np.select([goal == 2, goal == 1], [4.0, 0.0], 1.0),
        2: np.where(goal <= 2, 2.0, 1.0),
        5: np.where(goal == 4, 4.0, 1.0),
    }
    _assign(
        rng,
        change,
        respondent,
        {1: SURVEY_CHANGE[1] - N_TOP, **{k: v for k, v in SURVEY_CHANGE.items() if k != 1}},
        change_w,
    )
    importance = np.full(top.size, -1)
    importance[
        _pick(rng, respondent * np.where(change <= 0, 4.0, 1.0), N_RESPONDENTS - sum(SURVEY_IMPORTANCE.values()))
    ] = 0
    imp_w = {
        5: np.where(change == 1, 3.0, 1.0),
        4: np.where(np.isin(change, (1, 2)), 2.0, 1.0),
        6: np.where(change == 6, 5.0, 1.0),
    }
    _assign(rng, importance, respondent, SURVEY_IMPORTANCE, imp_w)
    influence = np.full(top.size, -1)
    influence[_pick(rng, respondent * 1.0, N_RESPONDENTS - sum(SURVEY_INFLUENCE.values()))] = 0
    _assign(rng, influence, respondent, SURVEY_INFLUENCE, {5: np.where(change == 1, 2.0, 1.0)})
    positive = np.full(top.size, -1)
    _assign(rng, positive, respondent, SURVEY_POSITIVE, {1: np.where(change <= 2, 2.0, 1.0)})
    return _Survey(respondent, change, importance, influence, positive)


def _simulate_respondents(
    rng, settings: SimulationSettings, background: _Background, timeline: _Timeline, closing: _Closing
) -> np.ndarray:
    """The top group and N_RESPONDENTS − N_TOP other closed cases answer the survey."""
    origin, sev, h = background.origin, background.severity, background.is_hrv
    reason, goal, top = closing.reason, closing.goal, closing.top
    interim_off = (np.datetime64(settings.rounds[0][0]) - timeline.start).astype(int)
    closed_off = timeline.opened_off + timeline.duration - 1
    respondent = top.copy()
    resp_w = (
        np.select([origin == 1], [1.35], 1.0)
        * np.where(h, 0.55, 1.0)
        * np.select([sev == 1, sev == 3], [1.35, 0.7], 1.0)
        * np.select([reason == 1, reason == 2, reason == 4], [2.0, 0.4, 0.35], 1.0)
        * np.where(goal > 0, 3.0, 0.5)
        * np.where(closed_off <= interim_off, EARLY_RESPONDENT_WEIGHT, 1.0)
    )
    respondent[_pick(rng, timeline.closed_mask * ~top * resp_w, N_RESPONDENTS - N_TOP)] = True
    return respondent


def _with_open_case_answers(
    rng, settings: SimulationSettings, closed_mask: np.ndarray, survey: _Survey, closing: _Closing
) -> tuple[_Survey, _Closing]:
    """A few open cases with survey answers / a goal follow-up (quality warnings only);
    the answers still undecided become missing."""
    change, importance, influence, positive = (
        a.copy() for a in (survey.change, survey.importance, survey.influence, survey.positive)
    )
    goal = closing.goal.copy()
    open_idx = np.flatnonzero(~closed_mask)
    warn = rng.choice(open_idx, settings.n_open_with_survey + settings.n_open_with_goal, replace=False)
    sv = warn[: settings.n_open_with_survey]
    change[sv], importance[sv], influence[sv], positive[sv] = 2, 4, 4, 1
    goal[warn[settings.n_open_with_survey :]] = 5
    for arr in (change, importance, influence, positive):
        arr[arr == -1] = 0
    return (
        replace(survey, change=change, importance=importance, influence=influence, positive=positive),
        replace(closing, goal=goal),
    )


# ------------------------------------------------------------------ support
def _simulate_support(
    rng, background: _Background, timeline: _Timeline, closing: _Closing, survey: _Survey
) -> _Support:
    """The support given: interventions, risk assessment, collaboration, decisions."""
    has_int = _simulate_with_intervention(rng, background, timeline, closing)
    implementation = _simulate_implementation(rng, background.is_man, timeline.closed_mask, closing, has_int)
    assessed = _simulate_risk_assessed(rng, background, closing.top, has_int)
    categories = _intervention_categories(background, timeline, closing, survey, assessed)
    k = _simulate_intervention_counts(rng, categories, has_int, background.is_hrv, closing.top)
    interventions = _simulate_interventions(rng, background, has_int, k)
    collaboration = _simulate_collaboration(rng, background, closing.top, has_int)
    support_started = _simulate_support_start(rng, timeline, has_int)
    decision, change_goal = _simulate_decision_and_change_goal(rng, has_int, closing)
    return _Support(
        has_int, implementation, assessed, interventions, collaboration, support_started, decision, change_goal
    )


def _simulate_with_intervention(rng, background: _Background, timeline: _Timeline, closing: _Closing) -> np.ndarray:
    """At least one intervention: exact per HRV stratum and for men ("utredning
    avslutad utan insats" has none)."""
    man, hrv_group = background.is_man, background.hrv_group
    reason, top = closing.reason, closing.top
    has_int = np.zeros(man.size, bool)
    men_by_group = np.array([np.count_nonzero(man & (hrv_group == g)) for g in WITH_INTERVENTION])
    men_quota = _largest_remainder(men_by_group * 1.0, MEN_WITH_INTERVENTION)
    recent = timeline.opened_off > timeline.period_days - 45
    for (grp, count), men_q in zip(WITH_INTERVENTION.items(), men_quota):
        w = (hrv_group == grp) * np.where(reason == 2, 1e-6, 1.0) * np.where(top, 50.0, 1.0)
        w = w * np.where(timeline.closed_mask, 1.0, np.where(recent, 0.25, 1.0))
        w = w * np.where(reason == 4, 0.5, 1.0)
        has_int[_pick(rng, w * man, int(men_q))] = True
        has_int[_pick(rng, w * ~man, int(count - men_q))] = True
    return has_int


def _simulate_implementation(
    rng, man: np.ndarray, closed_mask: np.ndarray, closing: _Closing, has_int: np.ndarray
) -> np.ndarray:
    """Implementation of the closed cases' interventions (all, some, none carried out, other)."""
    reason, goal = closing.reason, closing.goal
    implementation = np.full(man.size, -1)
    impl_pool = closed_mask & has_int
    implementation[_pick(rng, impl_pool * 1.0, int(impl_pool.sum()) - sum(IMPLEMENTATION.values()))] = 0
    impl_w = {
        1: np.select([reason == 1], [3.0], 1.0) * np.where(goal == 1, 2.0, 1.0),
        3: np.where(np.isin(reason, (3, 4)), 4.0, 0.5) * np.where(man, 0.5, 1.0),
    }
    _assign(rng, implementation, impl_pool, IMPLEMENTATION, impl_w)
    implementation[implementation == -1] = 0
    return implementation


def _simulate_risk_assessed(rng, background: _Background, top: np.ndarray, has_int: np.ndarray) -> np.ndarray:
    """Risk assessed: exact per HRV × intervention cell (HRV 66 %, others 55 %)."""
    h, sev = background.is_hrv, background.severity
    assessed = np.zeros(h.size, bool)
    risk_w = np.where(top, 1.7, 1.0) * np.select([sev == 3, sev == 1], [1.5, 0.8], 1.0)
    for (grp, interv), count in RISK_ASSESSED.items():
        pool = (h if grp == "hrv" else ~h) & (has_int == interv)
        assessed[_pick(rng, pool * risk_w, count)] = True
    return assessed


def _intervention_categories(
    background: _Background, timeline: _Timeline, closing: _Closing, survey: _Survey, assessed: np.ndarray
) -> dict[str, np.ndarray]:
    """The case groups of INTERVENTION_MEANS (diagram 10)."""
    b, closed_mask = background, timeline.closed_mask
    return {
        "hrv": b.is_hrv,
        "nej": b.hrv_group == "nej",
        "goal1": (closing.goal == 1) & closed_mask,
        "outside_europe": b.origin == 4,
        "age1824": b.age_group == 0,
        "sev3": b.severity == 3,
        "assessed": assessed,
        "not_assessed": ~assessed,
        "intellectual": b.impairment[3],
        "origin1": b.origin == 1,
        "sev1": b.severity == 1,
        "age6574": b.age_group == 5,
        "top": closing.top,
        "respondent": survey.respondent & closed_mask,
        "man": b.is_man,
    }


def _intervention_slots() -> int:
    """All interventions given: the national counts plus the HRV-only codes."""
    return sum(INTERVENTIONS.values()) + sum(v for k, v in INTERVENTIONS_HRV_FIXED.items() if k not in INTERVENTIONS)


def _simulate_intervention_counts(
    rng, cats: dict[str, np.ndarray], has_int: np.ndarray, h: np.ndarray, top: np.ndarray
) -> np.ndarray:
    """Number of interventions per case, raked to diagram 10's category means; the
    total is exactly _intervention_slots()."""
    slots_total = _intervention_slots()
    excess = _raked_excess(rng.gamma(2.5, 0.4, has_int.size) * has_int, cats, has_int, slots_total)
    fraction = excess - np.floor(excess)
    k = np.where(has_int, 1 + np.floor(excess) + (rng.random(has_int.size) < fraction), 0).astype(int)
    diff = slots_total - k.sum()
    if diff > 0:
        k[_pick(rng, has_int * (k < 11) * (excess + 0.1), diff)] += 1
    elif diff < 0:
        k[_pick(rng, (k > 1) * (excess + 0.1), -diff)] -= 1
    return _with_exact_small_categories(rng, k, cats, has_int, h, top)


def _raked_excess(excess: np.ndarray, cats: dict[str, np.ndarray], has_int: np.ndarray, slots_total: int) -> np.ndarray:
    """Interventions beyond the first, raked to the category means and the overall mean."""
    excess = excess.copy()
    targets = [(cats[k] & has_int, t - 1) for k, t in INTERVENTION_MEANS.items()]
    mean_all = slots_total / has_int.sum() - 1
    for _ in range(60):
        for mask, target in targets:
            excess[mask] *= target / excess[mask].mean()
        excess *= mean_all / excess[has_int].mean()
        np.clip(excess, 0, 10, out=excess)
    return excess


def _with_exact_small_categories(
    rng, k: np.ndarray, cats: dict[str, np.ndarray], has_int: np.ndarray, h: np.ndarray, top: np.ndarray
) -> np.ndarray:
    """Small categories: integer rounding noise is large there, so fix their sums
    exactly and compensate in the non-HRV cases outside them (the total stays exact)."""
    k = k.copy()
    small = cats["intellectual"] | cats["age6574"]
    donors = has_int & ~small & ~h & ~top
    for name in ("hrv", "intellectual", "age6574"):
        members = cats[name] & has_int
        need = round(INTERVENTION_MEANS[name] * members.sum()) - int(k[members].sum())
        if need > 0:
            k[_pick(rng, members * (k < 11), need)] += 1
            k[_pick(rng, donors * (k > 1), need)] -= 1
        elif need < 0:
            k[_pick(rng, members * (k > 1), -need)] -= 1
            k[_pick(rng, donors * (k < 11), -need)] += 1
    return k


def _intervention_quotas(slots: dict[str, int]) -> dict[str, dict[int, int]]:
    """Cases per intervention code in each HRV stratum, given the stratum's slots: the
    HRV codes of INTERVENTIONS_HRV_FIXED exact, stödsamtal exact for Nej, the rest
    split by the strata's free slots; Skyddat boende (3) takes up the remainder."""
    flexible = [c for c in INTERVENTIONS if c not in INTERVENTIONS_HRV_FIXED]
    q_hrv = dict(INTERVENTIONS_HRV_FIXED)
    flex_hrv = _largest_remainder(
        np.array([INTERVENTIONS[c] for c in flexible]) * 1.0, slots["hrv"] - sum(INTERVENTIONS_HRV_FIXED.values())
    )
    q_hrv.update(dict(zip(flexible, flex_hrv.tolist())))
    q_nej: dict[int, int] = {4: STODSAMTAL_NEJ}
    q_oth: dict[int, int] = {4: INTERVENTIONS[4] - q_hrv[4] - STODSAMTAL_NEJ}
    free_nej = slots["nej"] - q_nej[4]
    free_oth = slots["other"] - q_oth[4]
    ratio = free_oth / (free_nej + free_oth)
    for c in INTERVENTIONS:
        if c in (4, 3):
            continue
        rest = INTERVENTIONS[c] - q_hrv.get(c, 0)
        q_oth[c] = round(rest * ratio)
        q_nej[c] = rest - q_oth[c]
    q_oth[3] = slots["other"] - sum(q_oth.values())
    q_nej[3] = slots["nej"] - sum(q_nej.values())
    return {"hrv": q_hrv, "nej": q_nej, "other": q_oth}


def _simulate_interventions(rng, background: _Background, has_int: np.ndarray, k: np.ndarray) -> dict[int, np.ndarray]:
    """Which interventions: k per case, exact counts per HRV stratum."""
    man, hrv_group = background.is_man, background.hrv_group
    strata = {
        "hrv": has_int & background.is_hrv,
        "nej": has_int & (hrv_group == "nej"),
        "other": has_int & (hrv_group == "other"),
    }
    quotas = _intervention_quotas({s: int(k[m].sum()) for s, m in strata.items()})
    int_mult = {
        10: np.where(man, 0.3, 1.0),
        7: np.where(man, 0.45, 1.0),
        13: np.where(man, 2.5, 1.0),
        4: np.where(man, 1.6, 1.0),
        9: np.where(background.children_deg > 0, 3.0, 1.0),
    }
    interventions: dict[int, np.ndarray] = {c: np.zeros(man.size, bool) for c in range(1, 20)}
    for s, q in quotas.items():
        cap = np.where(strata[s], k, 0)
        got = _fill_options(
            rng, cap, {c: v for c, v in q.items() if v > 0}, int_mult, exclusive=({10, 11, 12, 13}, 0.45)
        )
        for c, arr in got.items():
            interventions[c] |= arr
    return {c: a for c, a in interventions.items() if a.any()}


def _simulate_collaboration(
    rng, background: _Background, top: np.ndarray, has_int: np.ndarray
) -> dict[int, np.ndarray]:
    """Collaboration: recorded (incl. none), number of partners, partners."""
    h, sev = background.is_hrv, background.severity
    recorded = np.zeros(h.size, bool)
    n_partner_cases = sum(COLLABORATION_DEGREE.values())
    collab_w = np.where(has_int, 4.0, 1.0)
    recorded[_pick(rng, collab_w, n_partner_cases + N_COLLABORATION_NONE)] = True
    partners_w = np.where(top, 0.45, 1.0) * np.where(h, 1.8, 1.0) * np.where(sev == 3, 1.5, 1.0)
    cdeg = _degrees(rng, recorded, COLLABORATION_DEGREE, {1: partners_w, 2: partners_w, 3: partners_w, 4: partners_w})
    collaboration = _fill_options(rng, cdeg, COLLABORATION, {8: np.where(h, 100.0, 0.05), 5: np.where(h, 1.5, 1.0)})
    collaboration[11] = recorded & (cdeg == 0)
    return collaboration


def _simulate_support_start(rng, timeline: _Timeline, has_int: np.ndarray) -> np.ndarray:
    """Support started within about five weeks of the opening, never after the last day."""
    support_off = np.where(has_int, np.floor(rng.random(has_int.size) ** 2 * 35), 0).astype(int)
    support_off = np.minimum(timeline.opened_off + support_off, timeline.last_off)
    return np.where(has_int, timeline.start + support_off.astype("timedelta64[D]"), np.datetime64("NaT"))


def _simulate_decision_and_change_goal(rng, has_int: np.ndarray, closing: _Closing) -> tuple[np.ndarray, np.ndarray]:
    """Decision type of the cases with support, and the change goal of all cases."""
    top, goal = closing.top, closing.goal
    decision = np.full(has_int.size, -1)
    _assign(
        rng,
        decision,
        has_int,
        {1: int(0.47 * has_int.sum()), 3: 110, 2: int(0.45 * has_int.sum())},
        {1: np.where(top, 1.8, 1.0)},
    )
    decision[decision == -1] = 0
    change_goal = np.full(has_int.size, -1)
    _assign(
        rng,
        change_goal,
        np.ones(has_int.size, bool),
        {2: 1950, 1: 820, 3: 90},
        {2: np.where(goal > 0, 12.0, 1.0), 1: np.where(goal > 0, 0.1, 1.0)},
    )
    change_goal[change_goal == -1] = 0
    return decision, change_goal


# ------------------------------------------------------------------ identifiers and frames
def _simulate_identifiers(
    rng, sizes: np.ndarray, unit_idx: np.ndarray, opened_off: np.ndarray, respondent: np.ndarray
) -> _Identifiers:
    """Per unit a running client number (some clients return), handler codes and the
    improvement suggestions of about a quarter of the respondents."""
    n = unit_idx.size
    order = np.lexsort((opened_off, unit_idx))
    rank = np.empty(n, int)
    unit_sorted = unit_idx[order]
    first = np.r_[0, np.flatnonzero(np.diff(unit_sorted)) + 1]
    pos = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))
    rank[order] = pos + 1
    client_no = rank.copy()
    # about 1 % of the cases are a returning client (same pseudonym, later opening date)
    returning = _pick(rng, (rank > 3) * 1.0, 30)
    client_no[returning] = np.maximum(1, rank[returning] - 1 - np.floor(rng.random(30) * 3)).astype(int)
    unit_start = np.zeros(sizes.size, int)
    unit_start[unit_sorted[first]] = first
    earlier_case = order[unit_start[unit_idx] + client_no - 1]
    client_no = np.where(opened_off[earlier_case] < opened_off, client_no, rank)  # keys stay unique
    handler_no = 1 + np.floor(rng.random(n) * np.clip(sizes[unit_idx] // 25 + 1, 1, 8)).astype(int)
    suggestion_idx = np.where(respondent & (rng.random(n) < 0.28), rng.integers(0, len(SUGGESTIONS), n), -1)
    return _Identifiers(client_no, handler_no, suggestion_idx)


def _code_series(arr: np.ndarray) -> pl.Series:
    """Codes as Int8, null where missing (0 or -1)."""
    return pl.Series(np.where(arr > 0, arr, 0), dtype=pl.Int8).replace(0, None)


def _date_series(arr: np.ndarray) -> pl.Series:
    return pl.Series(arr.astype("datetime64[D]")).cast(pl.Date)


def _cases_frame(
    units: pl.DataFrame,
    b: _Background,
    timeline: _Timeline,
    closing: _Closing,
    survey: _Survey,
    support: _Support,
    ids: _Identifiers,
) -> pl.DataFrame:
    """The canonical case frame (codebook schema), in case order."""
    n, unit_idx = b.unit_idx.size, b.unit_idx
    cases = pl.DataFrame(
        {
            "unit": units["unit"].to_numpy()[unit_idx],
            "client": [f"K{c:04d}" for c in ids.client_no],
            "handler": [f"HDL{x:02d}" for x in ids.handler_no],
            "service_type": units["service_type"].to_numpy()[unit_idx],
            "municipality": units["municipality"].to_numpy()[unit_idx],
            "opened": _date_series(timeline.opened),
            "sex": _code_series(b.sex),
            "age": pl.Series(np.where(b.age >= 0, b.age, 0), dtype=pl.Int16).replace(0, None),
            "impairment": list_column(b.impairment, n),
            "origin": _code_series(b.origin),
            "children_followup": list_column(b.children, n),
            "initiative": list_column(b.initiative, n),
            "perpetrator": list_column(b.perpetrator, n),
            "honour_violence": _code_series(b.hrv),
            "violence_severity": _code_series(b.severity),
            "change_goal": _code_series(support.change_goal),
            "support_started": _date_series(support.support_started),
            "interventions": list_column(support.interventions, n),
            "decision_type": _code_series(support.decision),
            "collaboration": list_column(support.collaboration, n),
            "implementation": _code_series(support.implementation),
            "goal_followup": _code_series(closing.goal),
            "closed": _date_series(timeline.closed),
            "closing_reason": _code_series(closing.reason),
            "survey_change": _code_series(survey.change),
            "survey_importance": _code_series(survey.importance),
            "survey_positive": _code_series(survey.positive),
            "survey_influence": _code_series(survey.influence),
            "survey_suggestions": pl.Series(
                [SUGGESTIONS[i] if i >= 0 else None for i in ids.suggestion_idx], dtype=pl.String
            ),
        }
    ).with_columns(pl.col("service_type").cast(pl.Int8))
    schema = codebook.case_schema(codebook.load())
    return cases.select("unit", "client", "handler", *schema.names(), "survey_suggestions").cast(dict(schema))


def _risk_frame(risk: pl.DataFrame, cases: pl.DataFrame, case_units: np.ndarray) -> pl.DataFrame:
    """The long risk frame keyed like the cases (``risk["case"]`` = row of ``cases``)."""
    case_rows = risk["case"].to_numpy()
    risk = risk.with_columns(
        unit=pl.Series(case_units[case_rows]),
        client=cases["client"].gather(case_rows),
        opened=cases["opened"].gather(case_rows),
    )
    return (
        risk.sort("case", "date", "seq")
        .with_columns(position=(pl.int_range(pl.len()).over("case") + 1).cast(pl.Int8))
        .select("unit", "client", "opened", "position", "date", "instrument", "rating")
    )


def _simulate_risk_assessments(rng, assessed: np.ndarray, background: _Background, timeline: _Timeline) -> pl.DataFrame:
    """One row per assessment of the assessed cases (``case`` = case index, ``seq`` =
    0-based order within the case): instrument, date and rating."""
    cases, count, seq, instrument = _simulate_risk_instruments(rng, assessed, background.is_hrv, background.is_man)
    case_of = np.repeat(cases, count)
    # dates: first within two weeks of opening, later ones 2–12 weeks apart, within the case
    gaps = np.where(seq == 0, np.floor(rng.random(seq.size) * 15), 14 + np.floor(rng.random(seq.size) * 70))
    cum = np.cumsum(gaps)
    cum -= np.repeat(cum[np.cumsum(count) - count] - gaps[np.cumsum(count) - count], count)
    off = np.minimum(timeline.opened_off[case_of] + cum.astype(int), timeline.last_off[case_of])
    rated, rating = _simulate_risk_ratings(rng, background.severity[cases], count, seq, instrument)
    return pl.DataFrame(
        {
            "case": case_of,
            "seq": seq,
            "date": _date_series(timeline.start + off.astype("timedelta64[D]")),
            "instrument": pl.Series(instrument, dtype=pl.Int8),
            "rating": pl.Series(np.where(rated, rating, 0), dtype=pl.Int8).replace(0, None),
        }
    )


def _simulate_risk_instruments(rng, assessed: np.ndarray, hrv: np.ndarray, man: np.ndarray):
    """An instrument combination per assessed case (RISK_COMBOS, exact), 1–3 assessments
    per case; a two-instrument combination alternates its instruments. Returns the
    assessed cases, their number of assessments, and per assessment row its
    position within the case and its instrument."""
    combo_codes = list(RISK_COMBOS)
    combo = np.full(assessed.size, -1)
    w = {
        combo_codes.index((1,)): np.where(man, 0.6, 1.0),
        combo_codes.index((6,)): np.where(man, 1.5, 1.0),
        combo_codes.index((1, 3)): np.where(hrv, 100.0, 0.01),
        combo_codes.index((3,)): np.where(hrv, 100.0, 0.01),
    }
    order = sorted(range(len(combo_codes)), key=lambda i: RISK_COMBOS[combo_codes[i]])
    _assign(rng, combo, assessed, {i: RISK_COMBOS[combo_codes[i]] for i in order}, w)
    cases = np.flatnonzero(assessed)
    cmb = combo[cases]
    n_instr = np.array([len(combo_codes[c]) for c in cmb])
    extra = np.select([rng.random(cases.size) < 0.68, rng.random(cases.size) < 0.7], [0, 1], 2)
    count = np.maximum(n_instr, 1 + extra)
    seq = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    first_instr = np.array([combo_codes[c][0] for c in cmb])
    second_instr = np.array([combo_codes[c][-1] for c in cmb])
    use_second = np.repeat(n_instr == 2, count) & (seq % 2 == 1)
    instrument = np.where(use_second, np.repeat(second_instr, count), np.repeat(first_instr, count))
    return cases, count, seq, instrument


def _simulate_risk_ratings(
    rng, case_severity: np.ndarray, count: np.ndarray, seq: np.ndarray, instrument: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Ratings 1–10 (talk without a method is rated in some cases only): a walk from a
    severity-dependent start, mostly downwards. Of the cases with two or more ratings,
    exactly UNCHANGED_RATING_SHARE end on the first rating. Returns (rated, rating)."""
    n_cases = case_severity.size
    rated = (instrument != 6) | np.repeat(rng.random(n_cases) < 0.45, count)
    n_rated = np.bincount(np.repeat(np.arange(n_cases), count), weights=rated, minlength=n_cases)
    repeated = n_rated >= 2
    unchanged = np.zeros(n_cases, bool)
    unchanged[_pick(rng, repeated * 1.0, round(UNCHANGED_RATING_SHARE * repeated.sum()))] = True
    base = np.select([case_severity == 3, case_severity == 2], [6, 4], 2) + np.floor(rng.random(n_cases) * 4)
    step = np.where(rng.random(seq.size) < 0.75, -1, 1) * (1 + np.floor(rng.random(seq.size) * 2))
    step = np.where(np.repeat(unchanged, count) | (seq == 0), 0, step)
    walk = np.cumsum(step)
    walk -= np.repeat(walk[np.cumsum(count) - count], count)
    rating = np.clip(np.repeat(base, count) + walk, 1, 10).astype(int)
    # changed cases: make sure the last rating differs from the first
    rated_rows = np.flatnonzero(rated)
    local = np.repeat(np.arange(n_cases), count)[rated_rows]
    _, first_pos = np.unique(local, return_index=True)
    _, last_rev = np.unique(local[::-1], return_index=True)
    first_row = rated_rows[first_pos]
    last_row = rated_rows[rated_rows.size - 1 - last_rev]
    owners = local[first_pos]
    fix = repeated[owners] & ~unchanged[owners] & (rating[first_row] == rating[last_row])
    rating[last_row[fix]] = np.where(rating[first_row[fix]] > 1, rating[first_row[fix]] - 1, 2)
    return rated, rating


# ------------------------------------------------------------------ the rounds
_CLOSING_FIELDS = (
    "closed",
    "closing_reason",
    "goal_followup",
    "implementation",
    "survey_change",
    "survey_importance",
    "survey_positive",
    "survey_influence",
    "survey_suggestions",
)
_SUPPORT_FIELDS = ("support_started", "interventions", "decision_type", "collaboration")


def as_registered(cases: pl.DataFrame, risk: pl.DataFrame, on: dt.date):
    """The cases as a unit has them registered on ``on``."""
    registered = cases.filter(pl.col("opened") <= on)
    closed_then = pl.col("closed").is_not_null() & (pl.col("closed") <= on)
    started_then = pl.col("support_started").is_not_null() & (pl.col("support_started") <= on)
    registered = registered.with_columns(
        [pl.when(closed_then).then(pl.col(c)).otherwise(None).alias(c) for c in _CLOSING_FIELDS]
        + [pl.when(started_then).then(pl.col(c)).otherwise(None).alias(c) for c in _SUPPORT_FIELDS]
    )
    kept = risk.join(registered.select("unit", "client", "opened"), on=["unit", "client", "opened"], how="semi")
    kept = kept.filter(pl.col("date") <= on).with_columns(
        position=(pl.int_range(pl.len()).over("unit", "client", "opened") + 1).cast(pl.Int8)
    )
    return registered, kept


def simulate_rounds(settings: SimulationSettings | None = None) -> list[RoundSnapshot]:
    """One snapshot per submission round, the last one being the final round."""
    settings = settings or SimulationSettings()
    units, cases, risk = _population(settings)
    final_date = settings.rounds[-1][0]
    rng = np.random.default_rng(settings.seed + 1)
    snapshots = []
    for round_date, n_units in settings.rounds[:-1]:
        submitting = units.filter(~pl.col("unit").is_in(list(settings.final_only_units)))
        if submitting.height != n_units:
            raise ValueError(f"round {round_date}: {submitting.height} units submit, settings say {n_units}")
        r_cases, r_risk = as_registered(
            cases.filter(pl.col("unit").is_in(submitting["unit"].to_list())), risk, round_date
        )
        # cases registered then but deleted before the final round
        # (not opened on the first day: the copy opens a day earlier and must stay
        # inside the period, or the pipeline rightly excludes it)
        candidates = r_cases.filter(pl.col("closed").is_null() & (pl.col("opened") > settings.period_start))
        picks = rng.choice(candidates.height, settings.n_deleted_cases, replace=False)
        deleted = candidates[np.sort(picks).tolist()].with_columns(
            client=pl.format("K9{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(3)),
            opened=pl.col("opened") - pl.duration(days=1),
        )
        r_cases = pl.concat([r_cases, deleted]).sort("unit", "opened", "client")
        snapshots.append(RoundSnapshot(round_date, submitting, r_cases, r_risk))
    if units.height != settings.rounds[-1][1]:
        raise ValueError(f"final round: {units.height} units, settings say {settings.rounds[-1][1]}")
    snapshots.append(RoundSnapshot(final_date, units, cases, risk))
    return snapshots
