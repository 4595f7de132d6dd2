"""The config checks of the ``kolada`` section: a wrong key or value is named in Swedish
(the Kolada file from a real run is tested in tests/e2e/test_kolada_pipeline.py)."""

from __future__ import annotations

import copy

import pytest
import yaml
from support.paths import ROOT

from kvinnofrid.settings import ConfigError, validate_config

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda k: k.update(per_adult=10000), ["per_adult", "kolada", "tillåtna nycklar", "per_adults"]),
        (lambda k: k["key_figures"].update(opend={"id": "X", "label": "x"}), ["opend", "kolada.key_figures"]),
        (lambda k: k["key_figures"]["opened"].update(id="N 123"), ["kolada.key_figures.opened.id"]),
        (lambda k: k.update(per_adults=0), ["kolada.per_adults", "minst 1"]),
        (lambda k: k.pop("population"), ["population", "saknas", "kolada"]),
    ],
)
def test_a_wrong_kolada_key_or_value_is_named(change, words):
    config = copy.deepcopy(CONFIG)
    change(config["kolada"])
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    for word in words:
        assert word in str(error.value)
