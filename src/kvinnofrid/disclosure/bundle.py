"""The national bundle (``results/nationellt/``): what a municipal analyst needs to set
their own unit beside the country and its size class, with no unit-level data.

A national run writes the bundle; a self-service run (``kvinnofrid egen-rapport``) reads
it next to one unit's own exports and builds that unit's internal comparison report
offline. The bundle holds only what is published anyway:

* ``tabeller/diagram_NN.csv|parquet``: the 27 national tables;
* ``jamforelse.parquet``: the comparison tables of the country and of every size class
  or comparison group exactly as the reports publish them, protected
  (``area_tables.LONG_SCHEMA`` with the hidden cells' reasons; kinds ``riket``,
  ``storleksklass`` and ``grupp`` only);
* ``omraden.json``: those areas (name, kind, number of units and cases; no unit names);
* ``facts.json``: the national facts;
* ``manifest.json``: SHA-256 of every file above, the registry version (digest of the
  codebook and diagram registry, so that a bundle from another version of the
  definitions is refused rather than compared), the period, the cut-off, the diagrams,
  the size classes and the suppression threshold.

Units and län never enter the bundle: ``bundle_areas`` keeps only the published kinds,
and ``write_bundle`` checks it again before writing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

import kvinnofrid
from kvinnofrid.errors import UserFacingError

PUBLISHED_KINDS = ("riket", "storleksklass", "grupp")
MANIFEST = "manifest.json"
COMPARISON = "jamforelse.parquet"
AREAS = "omraden.json"
FACTS = "facts.json"
TABLES = "tabeller"
BUNDLE_FORMAT = 1


class BundleError(UserFacingError):
    """The national bundle is missing, altered or from other definitions."""


def registry_version() -> str:
    """Digest of the definitions the numbers rest on (codebook + diagram registry)."""
    digest = hashlib.sha256()
    for name in ("codebook.yaml", "diagrams.yaml"):
        digest.update(resources.files("kvinnofrid.spec").joinpath(name).read_bytes())
    return digest.hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bundle_areas(areas: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The country and the size classes of areas.json, without the units they pool."""
    return [
        {
            "kind": a["kind"],
            "name": a["name"],
            "slug": a["slug"],
            "n_units": len(a["units"]),
            "cases": a["cases"],
            "closed": a["closed"],
        }
        for a in areas
        if a["kind"] in PUBLISHED_KINDS
    ]


def write_bundle(
    out: Path,
    *,
    national_tables: Sequence[Path],
    facts: Path,
    comparison: pl.DataFrame,
    areas: Sequence[Mapping[str, Any]],
    about: Mapping[str, Any],
) -> None:
    """Write the bundle into ``out`` (emptied first) with its manifest.

    ``comparison``: comparison tables in the long layout (areas of other kinds are
    dropped here); ``areas``: as in areas.json; ``about``: period, cutoff, diagrams, size
    classes, threshold (recorded in the manifest)."""
    kept_areas = bundle_areas(areas)
    names = [a["name"] for a in kept_areas]
    comparison = comparison.filter(pl.col("area_kind").is_in(list(PUBLISHED_KINDS)))
    if set(comparison["area"].unique().to_list()) - set(names):
        raise BundleError("jämförelsetabellerna innehåller områden som inte får ingå i det nationella paketet")
    if out.exists():
        shutil.rmtree(out)
    (out / TABLES).mkdir(parents=True)
    for path in sorted(national_tables, key=lambda p: Path(p).name):
        shutil.copyfile(path, out / TABLES / Path(path).name)
    shutil.copyfile(facts, out / FACTS)
    comparison.write_parquet(out / COMPARISON, statistics=False)
    (out / AREAS).write_text(json.dumps(kept_areas, ensure_ascii=False, indent=1), encoding="utf-8")
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    manifest = {
        "format": BUNDLE_FORMAT,
        "package_version": kvinnofrid.__version__,
        "registry_version": registry_version(),
        **dict(about),
        "files": {name: _sha256(out / name) for name in files},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


@dataclass(frozen=True)
class Bundle:
    manifest: dict[str, Any]
    comparison: pl.DataFrame
    areas: list[dict[str, Any]]
    facts: dict[str, Any]

    @property
    def size_classes(self) -> list[str]:
        return [a["name"] for a in self.areas if a["kind"] == "storleksklass"]


def _verified_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BundleError(
            f"{folder} är inte ett nationellt paket: {MANIFEST} saknas. Ange mappen "
            "results/nationellt från den nationella körningen."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError):
        raise BundleError(f"{path} går inte att läsa som manifest; hämta paketet på nytt.") from None
    for name, digest in sorted(files.items()):
        member = folder / name
        if not member.is_file():
            raise BundleError(f"Det nationella paketet är ofullständigt: {name} saknas; hämta paketet på nytt.")
        if _sha256(member) != digest:
            raise BundleError(
                f"Det nationella paketet är ändrat: {name} stämmer inte med manifestet; hämta paketet på nytt."
            )
    return manifest


def read_bundle(folder: Path) -> Bundle:
    """The bundle in ``folder``, every file checked against the manifest, and refused
    when its definitions differ from this version's (their numbers would not compare)."""
    folder = Path(folder)
    manifest = _verified_manifest(folder)
    if manifest.get("registry_version") != registry_version():
        raise BundleError(
            "Det nationella paketet bygger på en annan version av variabel- och diagramdefinitionerna "
            f"(paketet {manifest.get('registry_version')}, verktyget {registry_version()}); använd samma "
            "version av verktyget som den nationella körningen."
        )
    return Bundle(
        manifest=manifest,
        comparison=pl.read_parquet(folder / COMPARISON),
        areas=json.loads((folder / AREAS).read_text(encoding="utf-8")),
        facts=json.loads((folder / FACTS).read_text(encoding="utf-8")),
    )
