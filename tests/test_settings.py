"""Configuration errors name the key and what is allowed; the shipped config is valid."""

import copy
from pathlib import Path

import pytest
import yaml

from kvinnofrid.settings import ConfigError, Settings, validate_config

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
        line = next(i for i, l in enumerate(text) if l.startswith(f"{key}:"))
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
    ],
)
def test_a_wrong_key_or_value_is_named(change, words):
    config = copy.deepcopy(CONFIG)
    change(config)
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    for word in words:
        assert word in str(error.value)
