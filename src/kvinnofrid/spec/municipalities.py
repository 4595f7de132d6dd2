"""Which municipality each reporting unit belongs to, and its size class.

A unit writes its Kommun/stadsdel (2) text; that is a municipality name or a city
district (``Enskede-Årsta-Vantör``). The register (``municipalities.csv`` in the
package, or a file the user configures) gives each municipality its official code, its
län and its population; config ``districts`` maps district names to their
municipality. Used for the size-class comparisons, the regional summaries and Kolada.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import polars as pl

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
    return frame.select(REGISTER_SCHEMA.names()).cast(dict(REGISTER_SCHEMA)).with_columns(
        pl.col("kommunkod").str.zfill(4)
    )


def unit_municipalities(
    units: pl.DataFrame, register: pl.DataFrame, districts: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """One row per unit: ``unit``, ``kommun``, ``kommunkod``, ``lan``, ``invanare``
    (null where the Kommun/stadsdel text matches neither a municipality nor a
    configured district; such units are logged, not dropped)."""
    to_municipality = {normalise(k): v for k, v in (districts or {}).items()}
    pairs = units.select("unit", "municipality").unique().sort("unit")
    names = []
    for unit, text in pairs.iter_rows():
        key = normalise(text or "")
        name = _register_name(to_municipality.get(key) or text or "", register["kommun"]) or _register_name(
            text or "", register["kommun"]
        )
        if name is None:
            log.warning("Enheten %s: %r finns inte i kommunregistret eller bland districts", unit, text)
        names.append(name)
    return pairs.with_columns(pl.Series("kommun", names, dtype=pl.String)).join(
        register, on="kommun", how="left", maintain_order="left"
    ).drop("municipality")


def _register_name(text: str, names: Sequence[str]) -> str | None:
    """The register's name for a Kommun/stadsdel text: an exact match (case and space
    ignored, å/ä/ö kept) first, so that Håbo and Habo stay apart; else a match with
    å/ä/ö folded (``Torsas``), but only when it points at one municipality."""
    exact = [n for n in names if _casefold(n) == _casefold(text)]
    folded = [n for n in names if normalise(n) == normalise(text)]
    return exact[0] if exact else folded[0] if len(folded) == 1 else None


def _casefold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


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
