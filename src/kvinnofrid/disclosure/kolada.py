"""Kolada key figures (docs/table-definitions.md, the Kolada key figures).

Three counts of adults' cases per reporting unit, year and gender, published in Kolada
per 10 000 adult inhabitants (18+) of the municipality:

========  =====================================================================
SUKF01    cases opened (aktualiserade): every adult case in the compiled data
SUKF02    cases that received at least one intervention (``has_intervention``)
SUKF03    cases with an intervention, closed because the goal was reached fully
          or partly (see below)
========  =====================================================================

The ids ``SUKF01``–``SUKF03`` are placeholders until the official Kolada ids are
configured (config ``kolada.key_figures[*].id``).

Definitions (decisions, each documented where it is made)
---------------------------------------------------------
* **Adults.** The compiled case table holds only adult cases (a case under
  ``derived.adult_age`` is excluded at compile time); this module filters again on
  ``age >= adult_age`` so it can be given any case table. A case with a missing age
  is counted: the exports hold adults' cases, and a missing age is a registration gap,
  not evidence of a child.
* **Key figure 3** = ``has_intervention`` AND ``is_closed`` AND ``goal_reached``
  (Måluppföljning 192 in codebook ``derived.goal_reached_codes`` = {1, 2}: fully or
  partly) AND Avslutsorsak (257) in ``goal_closing_reasons`` (default {1} "Målet med
  stödet/insatsen har uppnåtts"; config ``kolada.goal_closing_reasons``, or codebook
  ``derived.kolada_closing_reason_codes``). data contract: "Kolada key figure 3 also
  needs Avslutsorsak and an intervention". A case closed for another reason (the
  client moved, declined, …) is not counted even if the goal follow-up is positive:
  the key figure counts cases *closed because* the goal was reached.
* **Period** = calendar year of the opening date (Datum för aktualisering, 5) for key
  figures 1–2 and of the closing date (256) for key figure 3. A year that the
  follow-up period covers only partly (2023 ends on the period's end date) gives a
  partial-year figure; the report says so.
* **Gender**: ``K`` = Kön (14) Kvinna, ``M`` = Man, ``T`` = all cases, *including*
  cases with a missing sex (so T ≥ K + M). Adults for T = adults K + adults M.
* **Units and municipalities.** A key figure is computed per reporting unit; a
  municipality with several units (Sigtuna, Stockholm: stadsdel and a city-wide unit)
  gives each unit's count against the adults of the *whole* municipality, so unit
  values of one municipality add up to the municipality's value.
* **Every combination is a row**: each unit × year (the years any case of the data
  opens or closes in) × key figure × gender, with count 0 where no case.

Population
----------
:func:`read_population` reads SCB's table BE0101N1 (Folkmängden efter region,
civilstånd, ålder och kön) as exported from the Statistikdatabasen (px-web CSV):
columns ``region`` (``0180 Stockholm``), optionally ``civilstånd`` (summed over),
``ålder`` (``0 år`` … ``100+ år``), ``kön`` (``män`` / ``kvinnor``) and one column per
year (``2022``, ``2023``; headers like ``Folkmängd 2022`` also work). Windows-1252 or
UTF-8, ``;``, ``,`` or tab separated, title lines above the header skipped.

``befolkning_demo.csv`` (in the package) is **demo data**, not SCB figures: written
by :func:`write_demo_population` from the *approximate* inhabitants in
``municipalities.csv`` with a fixed, made-up age and sex profile. Use it for the demo
only; real key figures need the real BE0101N1 export (config ``kolada.population``).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kvinnofrid.spec import codebook as codebook_module
from kvinnofrid.spec.codebook import Codebook
from kvinnofrid.spec.municipalities import load_register
from kvinnofrid.statistics.tables import finish_table

# Fallbacks for the config section ``kolada`` (config.yaml); the config wins.
DEFAULT_SETTINGS: dict[str, Any] = {
    "key_figures": [
        {
            "id": "SUKF01",
            "measure": "opened",
            "label": "Aktualiserade ärenden med vuxna våldsutsatta, antal per 10 000 invånare 18+",
        },
        {
            "id": "SUKF02",
            "measure": "intervention",
            "label": "Ärenden med minst en insats, antal per 10 000 invånare 18+",
        },
        {
            "id": "SUKF03",
            "measure": "goal_reached",
            "label": "Ärenden med insats avslutade då målet helt eller delvis uppnåtts, antal per 10 000 invånare 18+",
        },
    ],
    "goal_closing_reasons": None,  # None: codebook derived.kolada_closing_reason_codes, else [1]
    "per_adults": 10000,
    "sex_codes": {"K": 1, "M": 2},  # Kön (14): Kvinna, Man
}
MEASURES = ("opened", "intervention", "goal_reached")
PERIOD_OF = {"opened": "opened", "intervention": "opened", "goal_reached": "closed"}
GENDERS = ("T", "K", "M")

KOLADA_SCHEMA = pl.Schema(
    {
        "kpi": pl.String,
        "municipality": pl.String,
        "period": pl.Int32,
        "gender": pl.String,
        "count": pl.Int64,
        "adults": pl.Int64,
        "value": pl.Float64,
    }
)
UNIT_SCHEMA = pl.Schema({"unit": pl.String, **KOLADA_SCHEMA})
POPULATION_SCHEMA = pl.Schema(
    {
        "municipality": pl.String,
        "kommun": pl.String,
        "period": pl.Int32,
        "gender": pl.String,
        "adults": pl.Int64,
    }
)
VALUE_DECIMALS = 2

log = logging.getLogger(__name__)


def settings_of(config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``kolada`` config section over the defaults. ``key_figures`` may be the
    list of ``{id, measure, label}`` or, as in config.yaml, a mapping measure →
    ``{id, label}`` (its order is the order of the key figures in the output)."""
    out = dict(DEFAULT_SETTINGS)
    out.update({k: v for k, v in (config or {}).items() if v is not None})
    if isinstance(out["key_figures"], Mapping):
        out["key_figures"] = [{"measure": measure, **dict(kf)} for measure, kf in out["key_figures"].items()]
    return out


def check_settings(config: Mapping[str, Any] | None = None, codebook: Codebook | None = None) -> list[str]:
    """What the config schema cannot see, in Swedish, each naming its key: every
    key figure id used once, every measure known, the closing reasons options of
    Avslutsorsak (257) in the codebook. Empty when all is well."""
    cb = codebook or codebook_module.load()
    s = settings_of(config)
    problems = []
    ids = [str(kf["id"]) for kf in s["key_figures"]]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        problems.append(
            f"kolada.key_figures: id {', '.join(twice)} används för flera nyckeltal; "
            "varje nyckeltal behöver ett eget id"
        )
    unknown = [kf["measure"] for kf in s["key_figures"] if kf["measure"] not in MEASURES]
    if unknown:
        problems.append(
            f"kolada.key_figures: okänt mått {', '.join(map(repr, unknown))} (tillåtna: {', '.join(MEASURES)})"
        )
    codes = cb["closing_reason"].codes
    wrong = [c for c in (s["goal_closing_reasons"] or []) if c not in codes]
    if wrong:
        problems.append(
            f"kolada.goal_closing_reasons: {wrong} finns inte bland svarsalternativen för "
            f"Avslutsorsak (257): {', '.join(f'{o.code} {o.label}' for o in cb['closing_reason'].options)}"
        )
    return problems


def _closing_reasons(settings: Mapping[str, Any], cb: Codebook) -> list[int]:
    if settings.get("goal_closing_reasons"):
        return [int(c) for c in settings["goal_closing_reasons"]]
    return [int(c) for c in cb.derived.get("kolada_closing_reason_codes", [1])]


# ---------------------------------------------------------------- the case flags


def case_measures(
    derived: pl.DataFrame, config: Mapping[str, Any] | None = None, codebook: Codebook | None = None
) -> pl.DataFrame:
    """Per adult case: ``unit``, ``gender`` (K/M/null), and per measure a flag and a
    period (year). ``derived`` is the derived case table (derive.derive_cases):
    ``has_intervention``, ``is_closed`` and ``goal_reached`` are defined there once."""
    cb = codebook or codebook_module.load()
    s = settings_of(config)
    sex = s["sex_codes"]
    adult = (pl.col("age") >= cb.derived["adult_age"]) | pl.col("age").is_null()
    goal = (
        pl.col("has_intervention")
        & pl.col("is_closed")
        & pl.col("goal_reached")
        & pl.col("closing_reason").is_in(_closing_reasons(s, cb)).fill_null(False)
    )
    return (
        derived.lazy()
        .filter(adult)
        .select(
            "unit",
            pl.when(pl.col("sex") == sex["K"])
            .then(pl.lit("K"))
            .when(pl.col("sex") == sex["M"])
            .then(pl.lit("M"))
            .otherwise(None)
            .alias("gender"),
            pl.lit(True).alias("opened_flag"),
            pl.col("has_intervention").fill_null(False).alias("intervention_flag"),
            goal.fill_null(False).alias("goal_reached_flag"),
            pl.col("opened").dt.year().cast(pl.Int32).alias("opened_year"),
            pl.col("closed").dt.year().cast(pl.Int32).alias("closed_year"),
        )
        .collect()
    )


def unit_counts(
    derived: pl.DataFrame,
    config: Mapping[str, Any] | None = None,
    codebook: Codebook | None = None,
    years: Sequence[int] | None = None,
) -> pl.DataFrame:
    """``unit``, ``kpi``, ``period``, ``gender``, ``count``: every unit × year × key
    figure × gender (T, K, M), 0 where no case. ``years`` default: every year a case
    opens or closes in."""
    s = settings_of(config)
    flags = case_measures(derived, s, codebook)
    if years is None:
        years = sorted(set(flags["opened_year"].drop_nulls()) | set(flags["closed_year"].drop_nulls()))
    parts = []
    for kf in s["key_figures"]:
        measure = kf["measure"]
        if measure not in MEASURES:
            raise ValueError(f"kolada.key_figures: okänt mått {measure!r} (ett av {MEASURES})")
        chosen = flags.filter(pl.col(f"{measure}_flag")).select(
            "unit", "gender", pl.col(f"{PERIOD_OF[measure]}_year").alias("period")
        )
        by_sex = chosen.drop_nulls("gender").group_by("unit", "period", "gender").agg(pl.len().alias("count"))
        total = chosen.group_by("unit", "period").agg(pl.len().alias("count")).with_columns(gender=pl.lit("T"))
        parts.append(pl.concat([by_sex, total.select(by_sex.columns)]).with_columns(kpi=pl.lit(kf["id"])))
    counts = pl.concat(parts) if parts else None
    grid = (
        pl.DataFrame({"unit": sorted(derived["unit"].unique().to_list())})
        .join(pl.DataFrame({"kpi": [kf["id"] for kf in s["key_figures"]]}), how="cross")
        .join(pl.DataFrame({"period": list(years)}, schema={"period": pl.Int32}), how="cross")
        .join(pl.DataFrame({"gender": list(GENDERS)}), how="cross")
    )
    out = grid.join(
        counts.with_columns(pl.col("period").cast(pl.Int32), pl.col("count").cast(pl.Int64)),
        on=["unit", "kpi", "period", "gender"],
        how="left",
    )
    return out.with_columns(pl.col("count").fill_null(0)).select("unit", "kpi", "period", "gender", "count")


# ---------------------------------------------------------------- the key figures


def key_figures(
    derived: pl.DataFrame,
    population: pl.DataFrame,
    unit_municipalities: pl.DataFrame,
    config: Mapping[str, Any] | None = None,
    codebook: Codebook | None = None,
    years: Sequence[int] | None = None,
) -> pl.DataFrame:
    """One row per (unit, period, key figure, gender): ``unit`` + the columns of
    docs/output-contract.md (``kpi``, ``municipality``, ``period``, ``gender``, ``count``,
    ``adults``, ``value`` = count per 10 000 adults, rounded to 2 decimals).

    ``population``: :func:`read_population` (municipality, period, gender, adults).
    ``unit_municipalities``: municipalities.unit_municipalities (``unit`` →
    ``kommunkod``). A unit whose municipality is unknown, or a year without
    population, keeps its count with ``adults`` and ``value`` empty."""
    s = settings_of(config)
    counts = unit_counts(derived, s, codebook, years)
    codes = unit_municipalities.select("unit", pl.col("kommunkod").alias("municipality"))
    per = float(s["per_adults"])
    out = (
        counts.join(codes, on="unit", how="left")
        .join(
            population.select("municipality", "period", "gender", "adults"),
            on=["municipality", "period", "gender"],
            how="left",
        )
        .with_columns(
            pl.when(pl.col("adults") > 0)
            .then((pl.col("count") * per / pl.col("adults")).round(VALUE_DECIMALS))
            .otherwise(None)
            .alias("value")
        )
    )
    gaps = out.filter(pl.col("municipality").is_null() | pl.col("adults").is_null())
    for unit, code, period in gaps.select("unit", "municipality", "period").unique().sort("unit", "period").iter_rows():
        log.warning(
            "Nyckeltal för %s %s: %s",
            unit,
            period,
            "kommunkod saknas" if code is None else f"ingen befolkning för {code} år {period}",
        )
    order = {kf["id"]: i for i, kf in enumerate(s["key_figures"])}
    return (
        out.with_columns(
            pl.col("kpi").replace_strict(order, return_dtype=pl.Int32).alias("_k"),
            pl.col("gender").replace_strict({g: i for i, g in enumerate(GENDERS)}, return_dtype=pl.Int32).alias("_g"),
        )
        .sort("unit", "period", "_k", "_g")
        .select([pl.col(c).cast(t) for c, t in UNIT_SCHEMA.items()])
    )


MUNICIPALITY = "__kommun__"


def _hidden_key_figures(unit_figures: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """(unit, kpi, period, gender) to hide; unit = MUNICIPALITY for the sum of a
    municipality's units. See :func:`suppress_key_figures`."""
    # imported here, not at the top: the Snakefile imports this module for its settings
    # check at every start, and suppression brings scipy (0.2 s a start)
    from kvinnofrid.disclosure.suppression import suppress_complements

    def as_table(frame: pl.DataFrame) -> pl.DataFrame:
        wide = (
            frame.with_columns(pl.format("{}|{}", "kpi", "period").alias("group"))
            .pivot(on="gender", index="group", values="count", aggregate_function="sum")
            .sort("group")
        )
        rows = []
        for g, t, k, m in wide.select("group", "T", "K", "M").iter_rows():
            rows += [(g, "K", k, t), (g, "M", m, t), (g, "?", t - k - m, t)]
        return finish_table(
            pl.DataFrame(
                rows,
                schema={"group": pl.String, "category": pl.String, "n": pl.Int64, "denominator": pl.Int64},
                orient="row",
            )
        )

    hidden_rows = []
    frame_all = unit_figures.with_columns(pl.col("municipality").fill_null(pl.col("unit")))
    for _, frame in frame_all.group_by("municipality", maintain_order=True):
        units = sorted(frame["unit"].unique().to_list())
        tables = {u: as_table(frame.filter(pl.col("unit") == u)) for u in units}
        total = frame.group_by("kpi", "period", "gender").agg(pl.col("count").sum())
        tables = {MUNICIPALITY: as_table(total), **tables}
        out = suppress_complements(tables, threshold, totals={MUNICIPALITY: units}, kinds="single")
        for name, t in out.items():
            unit = MUNICIPALITY + frame["municipality"][0] if name == MUNICIPALITY else name
            for group, category, n, d in t.select("group", "category", "n", "denominator").iter_rows():
                kpi, period = group.split("|")
                if category in ("K", "M") and n is None:
                    hidden_rows.append((unit, kpi, int(period), category))
                if d is None:
                    hidden_rows.append((unit, kpi, int(period), "T"))
    return (
        pl.DataFrame(
            hidden_rows,
            schema={"unit": pl.String, "kpi": pl.String, "period": pl.Int32, "gender": pl.String},
            orient="row",
        )
        .unique()
        .with_columns(_hide=pl.lit(True))
    )


def _blank(frame: pl.DataFrame, hide: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    return (
        frame.join(hide, on=on, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_hide").fill_null(False)).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("count", "value")
        )
        .select(frame.columns)
    )


def suppress_key_figures(unit_figures: pl.DataFrame, threshold: int = 5) -> pl.DataFrame:
    """Small-number protection for the unit key figures: ``count`` and ``value``
    empty where hidden (``adults`` stays: it is public). Per unit, each (key figure,
    year) is a table of K, M and the unknown sex over the denominator T (T = K + M +
    unknown; the unknown count is never published but the arithmetic counts it), and
    the units of one municipality are protected together with their sum: see kvinnofrid.disclosure.suppression. Key figures are not linked
    to each other (SUKF02 ≤ SUKF01 is an inequality, not a sum)."""
    hide = _hidden_key_figures(unit_figures, threshold)
    return _blank(unit_figures, hide, ["unit", "kpi", "period", "gender"])


# ---------------------------------------------------------------- population (SCB BE0101N1)

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_REGION = re.compile(r"^\s*(\d{4})\s+(.*?)\s*$")
_AGE = re.compile(r"^\s*(\d+)\s*\+?\s*(år)?\s*$")


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("filen är varken UTF-8 eller Windows-1252")


def _normal(name: str) -> str:
    return codebook_module.normalise(name.strip().strip('"'))


def read_population(path: str | Path, adult_age: int = 18) -> pl.DataFrame:
    """Adults (age ≥ ``adult_age``) per municipality, year and gender (K, M, T = K + M)
    from an SCB BE0101N1 px-web CSV export (see the module docstring). Columns
    ``municipality`` (4-digit code), ``kommun``, ``period``, ``gender``, ``adults``.
    Rows for the whole country or a län (2-digit region codes), "totalt" ages or
    sexes are ignored; missing values (``..``) count as 0."""
    path = Path(path)
    text = _decode(path.read_bytes()).replace("\r\n", "\n")
    lines = text.split("\n")
    header_at = separator = None
    for i, line in enumerate(lines):
        for sep in (";", ",", "\t"):
            cells = {_normal(c) for c in line.split(sep)}
            if {"region", "alder"} <= cells:
                header_at, separator = i, sep
                break
        if header_at is not None:
            break
    if header_at is None:
        raise ValueError(
            f"{path}: ingen rubrikrad med kolumnerna region och ålder (väntat: SCB:s tabell BE0101N1 som CSV)"
        )
    body = "\n".join(lines[header_at:])
    frame = pl.read_csv(io.StringIO(body), separator=separator, infer_schema=False, quote_char='"')
    names = {_normal(c): c for c in frame.columns}
    missing = [n for n in ("region", "alder", "kon") if n not in names]
    if missing:
        raise ValueError(f"{path}: kolumnerna {missing} saknas (väntat: region, ålder, kön och ett år per kolumn)")
    year_cols = {
        c: int(m.group(1))
        for c in frame.columns
        if (m := _YEAR.search(c)) and _normal(c) not in ("region", "alder", "kon", "civilstand")
    }
    if not year_cols:
        raise ValueError(f"{path}: ingen årskolumn (t.ex. 2023)")
    region = frame[names["region"]].str.extract_groups(_REGION.pattern)
    ages = frame[names["alder"]].str.extract(_AGE.pattern, 1).cast(pl.Int32, strict=False)
    sex = (
        frame[names["kon"]]
        .map_elements(_normal, return_dtype=pl.String)
        .replace_strict({"kvinnor": "K", "man": "M"}, default=None)
    )
    long = (
        pl.DataFrame(
            {"municipality": region.struct.field("1"), "kommun": region.struct.field("2"), "age": ages, "gender": sex}
        )
        .hstack(frame.select(list(year_cols)))
        .filter(pl.col("municipality").is_not_null() & pl.col("gender").is_not_null() & (pl.col("age") >= adult_age))
        .unpivot(
            index=["municipality", "kommun", "age", "gender"],
            on=list(year_cols),
            variable_name="year_column",
            value_name="people",
        )
        .with_columns(
            pl.col("year_column").replace_strict(dict(year_cols.items()), return_dtype=pl.Int32).alias("period"),
            pl.col("people").str.replace_all(r"[\s\u00a0]", "").cast(pl.Int64, strict=False).fill_null(0),
        )
    )
    by_sex = long.group_by("municipality", "kommun", "period", "gender").agg(pl.col("people").sum().alias("adults"))
    total = (
        by_sex.group_by("municipality", "kommun", "period").agg(pl.col("adults").sum()).with_columns(gender=pl.lit("T"))
    )
    out = pl.concat([by_sex, total.select(by_sex.columns)])
    return (
        out.with_columns(
            pl.col("gender").replace_strict({g: i for i, g in enumerate(GENDERS)}, return_dtype=pl.Int32).alias("_g")
        )
        .sort("municipality", "period", "_g")
        .select([pl.col(c).cast(t) for c, t in POPULATION_SCHEMA.items()])
    )


def total_population(path: str | Path) -> pl.DataFrame:
    """``municipality``, ``period``, ``people``: every municipality's population of all
    ages, women and men together, per year of the BE0101N1 file (for the size classes,
    kvinnofrid.spec.municipalities.latest_population)."""
    return (
        read_population(path, adult_age=0)
        .filter(pl.col("gender") == "T")
        .select("municipality", "period", pl.col("adults").alias("people"))
    )


def demo_population_path() -> Path:
    """The packaged demo population (demo figures, see the module docstring)."""
    return Path(str(resources.files("kvinnofrid.demo").joinpath("befolkning_demo.csv")))


# The demo's made-up profile: relative size of each one-year age 0–100+ (a smooth
# bulge around 30–60, fewer old), the share of women per age band, and the growth from
# 2022 to 2023. Not SCB figures.
DEMO_YEARS = (2022, 2023)
DEMO_GROWTH_2022 = 0.992
DEMO_MAX_AGE = 100


def _demo_age_weights() -> np.ndarray:
    age = np.arange(DEMO_MAX_AGE + 1, dtype=float)
    weights = 1.15 - 0.35 * np.clip((age - 60) / 30, 0, None) ** 1.5
    weights = np.where(age >= 85, weights * np.exp(-(age - 85) / 5), weights)
    weights[-1] = weights[-2] * 0.6  # 100+
    return np.clip(weights, 0.002, None)


def _demo_women_share(age: np.ndarray) -> np.ndarray:
    return np.where(age < 65, 0.49, np.where(age < 85, 0.53, 0.64))


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(np.int64)
    rest = total - int(out.sum())
    order = np.argsort(-(raw - out), kind="stable")
    out[order[:rest]] += 1
    return out


def demo_population(register: pl.DataFrame | None = None) -> pl.DataFrame:
    """The demo population in BE0101N1's layout (region, ålder, kön, 2022, 2023):
    every municipality of the register (default the packaged municipalities.csv),
    2023 total = its approximate inhabitants, 2022 = ``DEMO_GROWTH_2022`` of it, split
    by the fixed profile above. Deterministic."""
    register = register if register is not None else load_register()
    weights = _demo_age_weights()
    ages = np.arange(DEMO_MAX_AGE + 1)
    women = _demo_women_share(ages)
    cells = np.concatenate([weights * (1 - women), weights * women])  # män 0–100+, kvinnor 0–100+
    age_labels = [f"{a} år" for a in ages[:-1]] + [f"{DEMO_MAX_AGE}+ år"]
    columns: dict[str, list] = {"region": [], "ålder": [], "kön": []}
    years = {str(y): [] for y in DEMO_YEARS}
    for name, code, people in register.sort("kommunkod").select("kommun", "kommunkod", "invanare").iter_rows():
        per_year = {
            2023: _largest_remainder(cells, int(people)),
            2022: _largest_remainder(cells, round(people * DEMO_GROWTH_2022)),
        }
        for i, sex in enumerate(("män", "kvinnor")):
            for a, label in enumerate(age_labels):
                columns["region"].append(f"{code} {name}")
                columns["ålder"].append(label)
                columns["kön"].append(sex)
                for y in DEMO_YEARS:
                    years[str(y)].append(int(per_year[y][i * len(ages) + a]))
    return pl.DataFrame(
        {**columns, **years},
        schema={"region": pl.String, "ålder": pl.String, "kön": pl.String, **{str(y): pl.Int64 for y in DEMO_YEARS}},
    )


def write_demo_population(path: str | Path, register: pl.DataFrame | None = None) -> Path:
    """Write the demo population as a BE0101N1-style CSV (UTF-8, comma, quoted text as
    px-web writes it). Reproducible: same register, byte-identical file."""
    path = Path(path)
    frame = demo_population(register)
    path.write_bytes(frame.write_csv(quote_style="non_numeric", line_terminator="\n").encode("utf-8"))
    return path


def write_key_figures(frame: pl.DataFrame, path: str | Path) -> Path:
    """``nyckeltal.csv``: UTF-8, comma, the columns of docs/output-contract.md in their order, then
    ``unit`` when present (a municipality with several units has one row per unit, so
    the unit is what makes a row unique; the contract's columns stay first for readers
    who take them by position)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = KOLADA_SCHEMA.names() + [c for c in frame.columns if c not in KOLADA_SCHEMA]
    path.write_bytes(
        frame.select(columns).write_csv(float_precision=VALUE_DECIMALS, line_terminator="\n").encode("utf-8")
    )
    return path
