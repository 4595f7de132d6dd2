"""Units are matched to municipalities by name or configured district."""

from pathlib import Path

import pytest

import polars as pl
from polars.testing import assert_frame_equal

from kvinnofrid.spec.municipalities import load_register, size_class_of, size_classes, unit_municipalities

REGISTER = pl.DataFrame(
    {"kommun": ["Stockholm", "Sigtuna", "Torsås"], "kommunkod": ["0180", "0191", "0834"],
     "lan": ["Stockholms län", "Stockholms län", "Kalmar län"], "invanare": [980000, 50000, 7000]}
)
CLASSES = [{"label": "liten", "from": 0}, {"label": "mellan", "from": 15000}, {"label": "stor", "from": 100000}]


def test_names_districts_and_unknown_units():
    units = pl.DataFrame({
        "unit": ["Enskede-Årsta-Vantör", "Sigtuna (Myndighet)", "Sigtuna (Utförare)", "Torsas", "Okänd"],
        "municipality": ["Enskede-Årsta-Vantör", "Sigtuna", "sigtuna", "TORSAS", "Atlantis"],
    })
    got = unit_municipalities(units, REGISTER, {"Enskede-Årsta-Vantör": "Stockholm"})
    assert got["kommun"].to_list() == ["Stockholm", None, "Sigtuna", "Sigtuna", "Torsås"]
    assert got["unit"].to_list() == sorted(units["unit"].to_list())
    assert got.filter(pl.col("unit") == "Okänd")["kommunkod"].to_list() == [None]
    assert size_classes(got, CLASSES) == {
        "Enskede-Årsta-Vantör": "stor", "Sigtuna (Myndighet)": "mellan",
        "Sigtuna (Utförare)": "mellan", "Torsas": "liten"}


def test_class_bounds_are_inclusive_from_below():
    assert [size_class_of(p, CLASSES) for p in (0, 14999, 15000, 99999, 100000, None)] == [
        "liten", "liten", "mellan", "mellan", "stor", None]


def test_packaged_register_has_four_digit_codes_for_every_participant():
    register = load_register()
    assert register["kommunkod"].str.len_chars().unique().to_list() == [4]
    assert register.height == register["kommun"].n_unique() == 290


def test_packaged_register_spells_every_municipality_as_scb():
    scb = pl.read_csv(Path(__file__).parent / "reference" / "municipalities-sweden.csv",
                      schema_overrides={"kommunkod": pl.String})
    register = load_register()
    assert register["kommunkod"].to_list() == sorted(register["kommunkod"])
    assert_frame_equal(register.select("kommunkod", "kommun", "lan"), scb.sort("kommunkod"))


def test_habo_and_håbo_are_different_municipalities():
    units = pl.DataFrame({"unit": ["a", "b", "c"], "municipality": ["Håbo", "HABO", "Hoganas"]})
    got = unit_municipalities(units, load_register())
    assert got["kommunkod"].to_list() == ["0305", "0643", "1284"]


# --- unit identity: å/ä/ö kept, the words around a name dropped ------------------------

from kvinnofrid.spec.municipalities import register_name, unit_key  # noqa: E402

NAMES = ["Håbo", "Habo", "Sigtuna", "Göteborg", "Falun", "Gotland", "Stockholm", "Borås", "Upplands Väsby"]


def test_unit_key_keeps_swedish_letters_but_not_case_or_space():
    assert unit_key("  HÅBO ") == unit_key("håbo") != unit_key("Habo")
    assert unit_key("Enskede–Årsta–Vantör") == unit_key("enskede-årsta-vantör")
    assert unit_key("Upplands  Väsby") == "upplands väsby"


@pytest.mark.parametrize(("text", "name"), [
    ("Håbo", "Håbo"), ("Habo", "Habo"), ("HABO KOMMUN", "Habo"), ("håbo kommun", "Håbo"),
    ("Sigtuna kommun", "Sigtuna"), ("Göteborgs Stad", "Göteborg"), ("Falu kommun", "Falun"),
    ("Region Gotland", "Gotland"), ("Stockholms stad", "Stockholm"), ("Borås Stad", "Borås"),
    ("Upplands Väsby kommun", "Upplands Väsby"), ("Ingenstans", None), ("", None),
])
def test_register_name(text, name):
    assert register_name(text, NAMES) == name


def test_a_configured_district_names_its_municipality():
    districts = {"Spånga-Tensta": "Stockholm"}
    assert register_name("Spånga-Tensta stadsdelsförvaltning", NAMES, districts) == "Stockholm"
    assert register_name("spånga–tensta", NAMES, districts) == "Stockholm"
