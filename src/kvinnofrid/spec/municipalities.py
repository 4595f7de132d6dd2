"""Which municipality each reporting unit belongs to, and its size class.

A unit writes its Kommun/stadsdel (2) text; that is a municipality name or a city
district (``Enskede-Årsta-Vantör``). The register (``municipalities.csv`` in the
package, or a file the user configures) gives each municipality its official code, its
län and its population; config ``districts`` maps district names to their
municipality. Used for the size-class comparisons, the regional summaries and Kolada.

The register's populations are approximate. When SCB's population file is given
(config ``kolada.population``), :func:`latest_population` and :func:`with_population`
put SCB's figures in their place, so that the size classes rest on official figures;
a municipality missing from the file keeps the register's figure.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import polars as pl

from kvinnofrid.errors import UserFacingError
from kvinnofrid.spec.codebook import normalise

log = logging.getLogger(__name__)

REGISTER_SCHEMA = pl.Schema(
    {"kommun": pl.String(), "kommunkod": pl.String(), "lan": pl.String(), "invanare": pl.Int64()}
)


def load_register(path: str | Path | None = None) -> pl.DataFrame:
    """The municipality register. Without a path: the packaged register, whose
    population figures are approximate (enough for size classes, not for Kolada)."""
    source = Path(path) if path else resources.files("kvinnofrid.spec").joinpath("municipalities.csv")
    frame = pl.read_csv(source, schema_overrides={"kommunkod": pl.String})
    if "invanare" not in frame.columns and "invanare_ungefar" in frame.columns:
        frame = frame.rename({"invanare_ungefar": "invanare"})
    missing = set(REGISTER_SCHEMA) - set(frame.columns)
    if missing:
        raise ValueError(f"{source}: kolumnerna {sorted(missing)} saknas i kommunregistret")
    return (
        frame.select(REGISTER_SCHEMA.names()).cast(dict(REGISTER_SCHEMA)).with_columns(pl.col("kommunkod").str.zfill(4))
    )


# Words municipal staff put around the name: "Sigtuna kommun", "Göteborgs Stad",
# "Region Gotland", "Spånga-Tensta stadsdelsförvaltning".
NAME_SUFFIXES = ("stadsdelsförvaltning", "stadsdelsnämnd", "stadsdel", "kommun", "stad")
NAME_PREFIXES = ("region", "kommun")


def unit_key(text: str | None) -> str:
    """Compare form of a unit's Kommun/stadsdel text: case, surrounding and repeated
    space and the kind of dash do not matter; å, ä and ö are kept (Håbo ≠ Habo)."""
    text = unicodedata.normalize("NFC", str(text or "")).strip().casefold()
    text = text.replace("–", "-").replace("—", "-")
    return re.sub(r"\s+", " ", text)


def _name_candidates(key: str) -> list[str]:
    """``key`` and the forms it may take without the words around a name, including the
    genitive ("göteborgs stad" → "göteborg", "falu kommun" → "falun")."""
    stems = [key]
    for prefix in NAME_PREFIXES:
        if key.startswith(prefix + " "):
            stems.append(key[len(prefix) + 1 :])
    for stem in list(stems):
        for suffix in NAME_SUFFIXES:
            if stem.endswith(" " + suffix):
                stems.append(stem[: -len(suffix) - 1].strip())
    candidates = []
    for stem in stems:
        candidates += [stem, stem[:-1] if stem.endswith("s") else stem, stem + "n"]
    return list(dict.fromkeys(candidates))


@functools.cache
def _by_key(names: tuple[str, ...]) -> dict[str, str]:
    """Each name by its compare form (a run asks for every unit against the same ~290)."""
    return {unit_key(n): n for n in names}


def register_name(text: str | None, names: Sequence[str], districts: Mapping[str, str] | None = None) -> str | None:
    """The register's name of the municipality that a Kommun/stadsdel text names (a
    configured district maps to its municipality), or None when it names none."""
    by_key = _by_key(tuple(names))
    district_of = {unit_key(k): v for k, v in (districts or {}).items()}
    key = unit_key(text)
    if key in district_of:
        return register_name(district_of[key], names)
    for candidate in _name_candidates(key):
        if candidate in by_key:
            return by_key[candidate]
        if candidate in district_of:
            return register_name(district_of[candidate], names)
    # Typed without å/ä/ö ("Torsas"): accepted only when it can mean one municipality,
    # so that "Habo" never becomes Håbo.
    folded = {n for n in names for c in _name_candidates(key) if normalise(n) == normalise(c)}
    return folded.pop() if len(folded) == 1 else None


def unit_municipalities(
    units: pl.DataFrame, register: pl.DataFrame, districts: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """One row per unit: ``unit``, ``kommun``, ``kommunkod``, ``lan``, ``invanare``
    (null where the Kommun/stadsdel text matches neither a municipality nor a
    configured district; such units are logged, not dropped)."""
    pairs = units.select("unit", "municipality").unique().sort("unit")
    names = []
    register_names = register["kommun"].to_list()
    for unit, text in pairs.iter_rows():
        name = register_name(text, register_names, districts)
        if name is None:
            log.warning("Enheten %s: %r finns inte i kommunregistret eller bland districts", unit, text)
        names.append(name)
    return (
        pairs.with_columns(pl.Series("kommun", names, dtype=pl.String))
        .join(register, on="kommun", how="left", maintain_order="left")
        .drop("municipality")
    )


def size_class_of(population: int | None, classes: Sequence[Mapping]) -> str | None:
    """The label of the last class whose ``from`` is at most the population."""
    if population is None:
        return None
    label = None
    for cls in classes:
        if population >= int(cls["from"]):
            label = cls["label"]
    return label


def size_classes(unit_municipalities: pl.DataFrame, classes: Sequence[Mapping]) -> dict[str, str]:
    """unit → size-class label (units without a known population are left out)."""
    return {
        unit: label
        for unit, population in unit_municipalities.select("unit", "invanare").iter_rows()
        if (label := size_class_of(population, classes)) is not None
    }


POPULATION_SCHEMA = pl.Schema({"kommunkod": pl.String(), "invanare": pl.Int64(), "year": pl.Int32()})


def latest_population(population: pl.DataFrame, up_to_year: int) -> pl.DataFrame:
    """``kommunkod``, ``invanare``, ``year``: each municipality's population in the
    latest year of ``population`` (``municipality``, ``period``, ``people``: SCB's
    total population, kolada.total_population) that is at most ``up_to_year`` (the
    cut-off year: a later year would describe the municipality after the follow-up).
    One year for all, so the report can name it; empty when the file has no such year.
    A municipality without people that year (SCB's ``..`` reads as 0) is left out, so
    it keeps the register's figure rather than falling into the smallest class."""
    years = population.filter(pl.col("period") <= up_to_year)["period"]
    if years.is_empty():
        return pl.DataFrame(schema=POPULATION_SCHEMA)
    year = int(years.max())
    return (
        population.filter((pl.col("period") == year) & (pl.col("people") > 0))
        .select(
            pl.col("municipality").str.zfill(4).alias("kommunkod"),
            pl.col("people").alias("invanare"),
            pl.col("period").alias("year"),
        )
        .cast(dict(POPULATION_SCHEMA))
        .sort("kommunkod")
    )


def with_population(register: pl.DataFrame, latest: pl.DataFrame | None) -> pl.DataFrame:
    """The register with ``invanare`` taken from ``latest`` (:func:`latest_population`)
    where it has the municipality; the others keep the register's figure. Without
    ``latest`` (no SCB file) the register as it is."""
    if latest is None:
        return register
    scb = latest.select("kommunkod", pl.col("invanare").alias("_scb"))
    return (
        register.join(scb, on="kommunkod", how="left", maintain_order="left")
        .with_columns(pl.coalesce("_scb", "invanare").alias("invanare"))
        .select(register.columns)
    )


def population_source(unit_municipalities: pl.DataFrame, latest: pl.DataFrame | None) -> dict[str, object]:
    """What the size classes of these units rest on, for the report: ``source``
    (``scb`` when SCB's figures were used, else ``register``), ``year`` (SCB's year or
    None) and ``fallback`` (the units' municipalities missing from SCB's year, which
    kept the register's figure)."""
    if latest is None or latest.is_empty():
        return {"source": "register", "year": None, "fallback": 0}
    codes = set(unit_municipalities["kommunkod"].drop_nulls())
    return {"source": "scb", "year": int(latest["year"][0]), "fallback": len(codes - set(latest["kommunkod"]))}


# ------------------------------------------------------------------ unit identity
#
# A unit keeps its identity when it writes its name otherwise between rounds:
# "Kungsholmens stadsdelsförvaltning", "SDF Kungsholmen" and "Kungsholmen" are one
# district, as "Sigtuna kommun" and "Sigtuna" are one municipality (register_name).

# Words around a district's name ("Spånga-Tensta stadsdelsförvaltning", "SDN Bromma").
DISTRICT_WORDS = (
    "stadsdelsförvaltning",
    "stadsdelsförvaltningen",
    "stadsdelsnämnd",
    "stadsdelsnämnden",
    "stadsdelsområde",
    "stadsdelsområdet",
    "stadsdel",
    "stadsdelen",
    "sdf",
    "sdn",
)


def unit_identity(text: str | None) -> str:
    """The compare form of a unit text without the words around a district's name,
    before or after it, and then without a genitive s ("kungsholmens sdf" →
    "kungsholmen"); å/ä/ö kept. Texts with one identity are one unit."""
    key = unit_key(text)
    words = key.split(" ")
    stripped = False
    while len(words) > 1 and words[-1] in DISTRICT_WORDS:
        words, stripped = words[:-1], True
    while len(words) > 1 and words[0] in DISTRICT_WORDS:
        words, stripped = words[1:], True
    if len(words) > 1 and words[0] in ("i", "för"):  # "stadsdelsnämnden i bromma"
        words = words[1:]
    stem = " ".join(words)
    if stripped and stem.endswith("s") and len(stem) > 3:
        stem = stem[:-1]
    return stem


def load_aliases(path: str | Path | None) -> dict[str, str]:
    """The user's alias file (config ``unit_aliases``): a CSV with the columns
    ``stavning`` (a spelling seen in the exports) and ``enhet`` (the unit it is), UTF-8,
    ``,`` or ``;``. {compare form of the spelling: unit}. Without a path: {}."""
    if not path:
        return {}
    source = Path(path)
    text = source.read_text(encoding="utf-8-sig")
    separator = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    frame = pl.read_csv(source, separator=separator, infer_schema=False, encoding="utf8")
    frame = frame.rename({c: unit_key(c) for c in frame.columns})
    missing = {"stavning", "enhet"} - set(frame.columns)
    if missing:
        raise ValueError(f"{source}: kolumnerna {sorted(missing)} saknas i aliasfilen (stavning, enhet)")
    aliases: dict[str, str] = {}
    for spelling, unit in frame.select("stavning", "enhet").drop_nulls().iter_rows():
        key, unit = unit_key(spelling), re.sub(r"\s+", " ", unit).strip()
        if aliases.get(key, unit) != unit:
            raise ValueError(f"{source}: stavningen {spelling!r} anges för två enheter")
        aliases[key] = unit
    return aliases


@dataclass(frozen=True)
class KnownUnits:
    """The unit texts a run knows: the register's municipalities, the configured
    districts (config ``districts``) and the spellings of the alias file."""

    names: tuple[str, ...]
    districts: tuple[tuple[str, str], ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        names: Sequence[str] | None = None,
        districts: Mapping[str, str] | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> KnownUnits:
        names = list(names) if names is not None else load_register()["kommun"].to_list()
        return cls(tuple(names), tuple(sorted((districts or {}).items())), tuple(sorted((aliases or {}).items())))

    def canonical(self, text: str | None) -> str | None:
        """The unit an alias spelling stands for, else the text itself."""
        return dict(self.aliases).get(unit_key(text), text)

    def district(self, text: str | None) -> str | None:
        """The configured district (its name as configured) the text names, or None."""
        identity = unit_identity(self.canonical(text))
        return next((d for d, _ in self.districts if unit_identity(d) == identity), None)

    def municipality(self, text: str | None) -> str | None:
        """The register's municipality the text names (not a district), or None."""
        canonical = self.canonical(text)
        if self.district(canonical) is not None:
            return None
        return register_name(canonical, self.names)

    def is_known(self, text: str | None) -> bool:
        return (
            unit_key(text) in dict(self.aliases)
            or self.district(text) is not None
            or (self.municipality(text) is not None)
        )


def known_units(
    register: str | Path | None, districts: Mapping[str, str] | None, aliases: str | Path | None
) -> KnownUnits:
    """The run's KnownUnits from its config: the register file (None: the packaged
    one), ``districts`` and the alias file (``unit_aliases``; None: none)."""
    return KnownUnits.of(load_register(register)["kommun"].to_list(), districts, load_aliases(aliases))


def unit_titles(
    units: pl.DataFrame, placed: pl.DataFrame, districts: Mapping[str, str] | None = None
) -> dict[str, str]:
    """unit → its name as a report's title says it: a district as a district of its
    municipality ("Enskede-Årsta-Vantör, stadsdel i Stockholm"), and a unit named like
    its municipality when that municipality has other units too as one of them
    ("Stockholm, en av 2 verksamheter i Stockholm"), so that a reader never takes one
    unit for the whole municipality. ``units``: unit, municipality (its Kommun/stadsdel
    text); ``placed``: unit_municipalities (unit → kommun)."""
    kommun_of = dict(placed.select("unit", "kommun").iter_rows())
    text_of = dict(units.select("unit", "municipality").unique("unit", keep="last").iter_rows())
    per_kommun: dict[str, int] = {}
    for k in kommun_of.values():
        if k:
            per_kommun[k] = per_kommun.get(k, 0) + 1
    district_keys = {unit_key(d) for d in (districts or {})}
    out = {}
    for unit, kommun in kommun_of.items():
        text = text_of.get(unit)
        if kommun and unit_key(text) in district_keys:
            out[unit] = f"{unit}, stadsdel i {kommun}"
        elif kommun and per_kommun.get(kommun, 0) > 1 and unit_key(unit) == unit_key(kommun):
            out[unit] = f"{unit}, en av {per_kommun[kommun]} verksamheter i {kommun}"
        else:
            out[unit] = unit
    return out


class GroupFileError(UserFacingError, ValueError):
    """The grouping file (config comparison_groups.file) misses a municipality or is wrong."""


def read_groups(path: str | Path, register: pl.DataFrame) -> dict[str, str]:
    """kommunkod → comparison group from a grouping file (config comparison_groups.file:
    CSV with ``kommunkod`` and ``grupp``, e.g. SKR's kommungruppsindelning). Every
    municipality of the register must have exactly one group and every code must be
    one of the register's; otherwise a GroupFileError in Swedish naming the file, the
    row and the municipality."""
    path = Path(path)
    try:
        frame = pl.read_csv(path, schema_overrides={"kommunkod": pl.String}, infer_schema_length=0)
    except (OSError, pl.exceptions.PolarsError) as problem:
        raise GroupFileError(f"{path}: jämförelsegrupperna kan inte läsas ({type(problem).__name__})") from None
    missing = {"kommunkod", "grupp"} - set(frame.columns)
    if missing:
        raise GroupFileError(f"{path}: kolumnen {sorted(missing)[0]} saknas (kolumnerna ska vara kommunkod och grupp)")
    names = dict(register.select("kommunkod", "kommun").iter_rows())
    out: dict[str, str] = {}
    for row, (code, group) in enumerate(frame.select("kommunkod", "grupp").iter_rows(), start=2):
        code = (code or "").strip().zfill(4)
        if code not in names:
            raise GroupFileError(f"{path}, rad {row}: kommunkoden {code!r} finns inte i kommunregistret")
        if not (group or "").strip():
            raise GroupFileError(f"{path}, rad {row}: {names[code]} ({code}) saknar grupp")
        if code in out:
            raise GroupFileError(f"{path}, rad {row}: {names[code]} ({code}) finns på mer än en rad")
        out[code] = group.strip()
    absent = sorted(set(names) - set(out))
    if absent:
        listed = ", ".join(f"{names[c]} ({c})" for c in absent[:5])
        more = f" och {len(absent) - 5} till" if len(absent) > 5 else ""
        raise GroupFileError(f"{path}: {len(absent)} kommuner saknar jämförelsegrupp: {listed}{more}")
    return out
