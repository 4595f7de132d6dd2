"""Configuration errors name the key and what is allowed; the shipped config is valid."""

import copy
from pathlib import Path

import pytest
import yaml

from kvinnofrid.settings import ConfigError, Settings, load_settings, validate_config, with_defaults

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def test_shipped_config_is_valid_and_typed():
    validate_config(CONFIG, SCHEMA)
    s = Settings.from_config(CONFIG)
    assert (s.period_start.isoformat(), s.period_end.isoformat()) == ("2022-01-01", "2023-10-10")
    assert s.suppression_threshold == 5


def test_every_schema_key_has_a_description_and_every_config_key_a_comment():
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    for key, spec in schema["properties"].items():
        assert spec.get("description"), key
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").splitlines()
    for key in CONFIG:
        line = next(i for i, line_ in enumerate(text) if line_.startswith(f"{key}:"))
        assert text[line - 1].startswith("#"), f"{key} has no comment above it"


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda c: c.update(data_rwa="x"), ["data_rwa", "tillåtna nycklar", "data_raw"]),
        (lambda c: c.update(on_unreadable_file="maybe"), ["on_unreadable_file", "fail", "skip"]),
        (lambda c: c["period"].update(start="2022-13-01"), ["period"]),
        (lambda c: c["period"].update(start="1/1 2022"), ["period.start", "ÅÅÅÅ-MM-DD"]),
        (lambda c: c.update(suppression_threshold="fem"), ["suppression_threshold", "integer"]),
        (lambda c: c["period"].update(start="2024-01-01"), ["period.start", "efter"]),
        (lambda c: c.pop("cutoff"), ["cutoff", "saknas"]),
        (lambda c: c.update(unit_report={"diagrams": [2]}), ["unit_report'", "tillåtna nycklar", "unit_reports"]),
        (lambda c: c["unit_reports"].update(diagrams=[2, 99]), ["unit_reports.diagrams = 99", "diagramregistret"]),
        (
            lambda c: c["trend"].update(measures=[{"id": "x", "label": "X", "diagram": 99, "categories": ["Ja"]}]),
            ["trend.measures.0.diagram = 99", "diagramregistret"],
        ),
    ],
)
def test_a_wrong_key_or_value_is_named(change, words):
    config = copy.deepcopy(CONFIG)
    change(config)
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    for word in words:
        assert word in str(error.value)


REQUIRED = ["data_raw", "period", "cutoff", "participants"]


def test_only_keys_without_a_sensible_default_are_required_and_the_others_have_one():
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    assert sorted(schema["required"]) == sorted(REQUIRED)
    for key, spec in schema["properties"].items():
        assert key in REQUIRED or "default" in spec, f"{key} has no default"


def test_a_minimal_config_gets_the_schema_defaults_in_settings():
    minimal = {k: copy.deepcopy(CONFIG[k]) for k in REQUIRED}
    s = load_settings(minimal, SCHEMA)
    full = Settings.from_config(CONFIG)
    # config.yaml spells out the defaults, except the values it sets for this report
    assert s.unit_report_diagrams == full.unit_report_diagrams
    assert s.size_classes == full.size_classes and s.kolada == full.kolada
    assert (s.suppression_threshold, s.honour_interventions_min, s.on_unreadable_file) == (5, 10, "fail")
    assert s.districts == {} and s.municipality_register is None and s.trend["previous"] == {}
    assert s.unit_aliases is None and full.unit_aliases is None
    assert [m["id"] for m in s.trend["measures"]] == [m["id"] for m in full.trend["measures"]]


def test_the_alias_file_is_read_from_the_project_folder():
    config = {**copy.deepcopy(CONFIG), "unit_aliases": "enheter/alias.csv"}
    s = load_settings(config, SCHEMA, project_dir=Path("/projekt"))
    assert s.unit_aliases == Path("/projekt/enheter/alias.csv")
    with pytest.raises(ConfigError, match="unit_aliases"):
        load_settings({**config, "unit_aliases": 3}, SCHEMA)


def test_an_absent_section_takes_its_default_a_given_one_is_kept_as_it_is():
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    filled = with_defaults({"kolada": {"population": "scb.csv"}}, schema)
    assert filled["kolada"] == {"population": "scb.csv"}  # incomplete: validation names what is missing
    assert filled["demo"] == {"seed": 20231010} and filled["unit_reports"]["diagrams"][0] == 2


def test_the_national_report_depends_only_on_its_own_settings():
    """report_text's params: a change of the Kolada or unit-report settings, or of the
    folder the project is checked out in, does not rerun the national report."""
    base = Settings.from_config(CONFIG, project_dir=Path("/a")).national_report_settings()
    other = copy.deepcopy(CONFIG)
    other["kolada"]["per_adults"] = 1000
    other["unit_reports"]["diagrams"] = [2]
    assert Settings.from_config(other, project_dir=Path("/b")).national_report_settings() == base
    # the threshold hides cells of the size classes the report shows (section storlek)
    other["suppression_threshold"] = 3
    assert Settings.from_config(other, project_dir=Path("/b")).national_report_settings() != base
    other["suppression_threshold"] = CONFIG["suppression_threshold"]
    other["cutoff"] = "2023-05-15"
    assert Settings.from_config(other).national_report_settings() != base
