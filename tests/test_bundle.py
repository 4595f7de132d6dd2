"""The national bundle: only published areas leave, and a bundle that was altered,
is incomplete or rests on other definitions is refused with a Swedish message."""

import json
from importlib import metadata

import polars as pl
import pytest

import kvinnofrid
from kvinnofrid.disclosure import bundle
from kvinnofrid.disclosure.area_tables import LONG_SCHEMA


def _long(rows):
    base = {
        "group": None,
        "denominator": 10,
        "share": None,
        "ci_low": None,
        "ci_high": None,
        "mean": None,
        "suppressed": False,
        "hidden_reason": None,
        "denominator_reason": None,
    }
    return pl.DataFrame([{**base, **r} for r in rows]).select(LONG_SCHEMA.names()).cast(dict(LONG_SCHEMA))


AREAS = [
    {"kind": "riket", "name": "Riket", "slug": "riket", "units": ["a", "b", "c"], "cases": 30, "closed": 10},
    {
        "kind": "storleksklass",
        "name": "Under 15 000 invånare",
        "slug": "under-15-000",
        "units": ["a", "b"],
        "cases": 20,
        "closed": 5,
    },
    {"kind": "enhet", "name": "a", "slug": "a", "units": ["a"], "cases": 3, "closed": 1},
    {"kind": "lan", "name": "Östergötlands län", "slug": "ostergotland", "units": ["a", "c"], "cases": 13, "closed": 3},
]


def _comparison():
    return _long(
        [
            {"table": "2", "area_kind": "riket", "area": "Riket", "category": "Kvinna", "n": 27},
            {
                "table": "2",
                "area_kind": "storleksklass",
                "area": "Under 15 000 invånare",
                "category": "Kvinna",
                "n": 18,
            },
            {"table": "2", "area_kind": "enhet", "area": "a", "category": "Kvinna", "n": 3},
            {"table": "2", "area_kind": "lan", "area": "Östergötlands län", "category": "Kvinna", "n": 12},
        ]
    )


@pytest.fixture
def written(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "diagram_02.csv").write_text("group,category,n\n,Kvinna,27\n", encoding="utf-8")
    facts = tmp_path / "facts.json"
    facts.write_text('{"cases_total": 30}', encoding="utf-8")
    out = tmp_path / "nationellt"
    bundle.write_bundle(
        out,
        national_tables=[tables / "diagram_02.csv"],
        facts=facts,
        comparison=_comparison(),
        areas=AREAS,
        about={"cutoff": "2023-10-10", "threshold": 5},
    )
    return out


def test_only_the_country_and_size_classes_enter_the_bundle(written):
    read = bundle.read_bundle(written)
    assert sorted(read.comparison["area"].to_list()) == ["Riket", "Under 15 000 invånare"]
    assert [a["kind"] for a in read.areas] == ["riket", "storleksklass"]
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in written.rglob("*.json"))
    assert "Östergötlands" not in text and '"a"' not in text  # no unit or län, not even as a pooled name
    assert read.size_classes == ["Under 15 000 invånare"]
    assert read.facts == {"cases_total": 30}


def test_the_manifest_hashes_every_file_and_records_the_cutoff(written):
    manifest = json.loads((written / bundle.MANIFEST).read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == sorted(
        p.relative_to(written).as_posix() for p in written.rglob("*") if p.is_file() and p.name != bundle.MANIFEST
    )
    assert manifest["cutoff"] == "2023-10-10"
    assert manifest["registry_version"] == bundle.registry_version()
    # the release that wrote it, from the one version source (pyproject.toml)
    assert manifest["package_version"] == kvinnofrid.__version__ == metadata.version("kvinnofrid")


def test_an_altered_file_is_refused(written):
    (written / "facts.json").write_text('{"cases_total": 31}', encoding="utf-8")
    with pytest.raises(bundle.BundleError, match=r"facts\.json stämmer inte"):
        bundle.read_bundle(written)


def test_a_missing_file_is_refused(written):
    (written / bundle.COMPARISON).unlink()
    with pytest.raises(bundle.BundleError, match="ofullständigt"):
        bundle.read_bundle(written)


def test_a_folder_without_manifest_is_not_a_bundle(tmp_path):
    with pytest.raises(bundle.BundleError, match="inte ett nationellt paket"):
        bundle.read_bundle(tmp_path)


def test_a_bundle_from_other_definitions_is_refused(written):
    manifest = json.loads((written / bundle.MANIFEST).read_text(encoding="utf-8"))
    manifest["registry_version"] = "0" * 16
    (written / bundle.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(bundle.BundleError, match="annan version"):
        bundle.read_bundle(written)


def test_a_unit_row_smuggled_under_a_published_kind_is_refused(tmp_path):
    sneaky = _comparison().with_columns(
        pl.when(pl.col("area") == "a").then(pl.lit("riket")).otherwise(pl.col("area_kind")).alias("area_kind")
    )
    facts = tmp_path / "facts.json"
    facts.write_text("{}", encoding="utf-8")
    with pytest.raises(bundle.BundleError, match="inte får ingå"):
        bundle.write_bundle(tmp_path / "out", national_tables=[], facts=facts, comparison=sneaky, areas=AREAS, about={})
