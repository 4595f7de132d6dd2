"""Units are matched to municipalities by name or configured district."""

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.paths import REFERENCE

from kvinnofrid.spec.municipalities import (
    latest_population,
    load_register,
    population_source,
    size_class_of,
    size_classes,
    unit_municipalities,
    with_population,
)

REGISTER = pl.DataFrame(
    {
        "kommun": ["Stockholm", "Sigtuna", "Torsås"],
        "kommunkod": ["0180", "0191", "0834"],
        "lan": ["Stockholms län", "Stockholms län", "Kalmar län"],
        "invanare": [980000, 50000, 7000],
    }
)
CLASSES = [{"label": "liten", "from": 0}, {"label": "mellan", "from": 15000}, {"label": "stor", "from": 100000}]


def test_names_districts_and_unknown_units():
    units = pl.DataFrame(
        {
            "unit": ["Enskede-Årsta-Vantör", "Sigtuna (Myndighet)", "Sigtuna (Utförare)", "Torsas", "Okänd"],
            "municipality": ["Enskede-Årsta-Vantör", "Sigtuna", "sigtuna", "TORSAS", "Atlantis"],
        }
    )
    got = unit_municipalities(units, REGISTER, {"Enskede-Årsta-Vantör": "Stockholm"})
    assert got["kommun"].to_list() == ["Stockholm", None, "Sigtuna", "Sigtuna", "Torsås"]
    assert got["unit"].to_list() == sorted(units["unit"].to_list())
    assert got.filter(pl.col("unit") == "Okänd")["kommunkod"].to_list() == [None]
    assert size_classes(got, CLASSES) == {
        "Enskede-Årsta-Vantör": "stor",
        "Sigtuna (Myndighet)": "mellan",
        "Sigtuna (Utförare)": "mellan",
        "Torsas": "liten",
    }


def test_class_bounds_are_inclusive_from_below():
    assert [size_class_of(p, CLASSES) for p in (0, 14999, 15000, 99999, 100000, None)] == [
        "liten",
        "liten",
        "mellan",
        "mellan",
        "stor",
        None,
    ]


# SCB's total population (kolada.total_population): Sigtuna has grown past 100 000 in
# 2023 (made-up figures), 2024 lies after the cut-off year, Torsås is missing.
SCB = pl.DataFrame(
    {
        "municipality": ["0180", "0191", "0180", "0191", "0180", "0191"],
        "period": [2022, 2022, 2023, 2023, 2024, 2024],
        "people": [990000, 90000, 995000, 101000, 999000, 12000],
    },
    schema_overrides={"period": pl.Int32},
)
UNITS = pl.DataFrame({"unit": ["Sigtuna", "Stockholm", "Torsås"], "municipality": ["Sigtuna", "Stockholm", "Torsås"]})


def test_scb_population_moves_a_municipality_to_its_class():
    scb = latest_population(SCB, 2023)
    placed = unit_municipalities(UNITS, with_population(REGISTER, scb))
    # Sigtuna is "mellan" by the register's 50 000, "stor" by SCB's 101 000
    assert size_classes(unit_municipalities(UNITS, REGISTER), CLASSES)["Sigtuna"] == "mellan"
    assert size_classes(placed, CLASSES)["Sigtuna"] == "stor"


def test_a_municipality_missing_from_scb_keeps_the_register_figure():
    scb = latest_population(SCB, 2023)
    placed = unit_municipalities(UNITS, with_population(REGISTER, scb))
    assert dict(placed.select("unit", "invanare").iter_rows()) == {
        "Sigtuna": 101000,
        "Stockholm": 995000,
        "Torsås": 7000,
    }
    assert size_classes(placed, CLASSES)["Torsås"] == "liten"
    assert population_source(placed, scb) == {"source": "scb", "year": 2023, "fallback": 1}


def test_the_latest_year_up_to_the_cutoff_year_is_used():
    assert latest_population(SCB, 2023)["year"].unique().to_list() == [2023]
    assert latest_population(SCB, 2030)["invanare"].to_list() == [999000, 12000]
    assert latest_population(SCB, 2022)["invanare"].to_list() == [990000, 90000]
    assert latest_population(SCB, 2021).is_empty()


def test_an_empty_scb_year_does_not_make_a_municipality_small():
    # SCB's ".." reads as 0: the register's figure stays
    scb = latest_population(SCB.with_columns(pl.col("people").replace(101000, 0)), 2023)
    assert with_population(REGISTER, scb)["invanare"].to_list() == [995000, 50000, 7000]


def test_without_scb_the_register_as_it_is():
    assert_frame_equal(with_population(REGISTER, None), REGISTER)
    assert population_source(unit_municipalities(UNITS, REGISTER), None) == {
        "source": "register",
        "year": None,
        "fallback": 0,
    }
    # a file without a year up to the cut-off: the register, and the report says so
    assert population_source(unit_municipalities(UNITS, REGISTER), latest_population(SCB, 2021))["source"] == "register"


def test_packaged_register_has_four_digit_codes_for_every_participant():
    register = load_register()
    assert register["kommunkod"].str.len_chars().unique().to_list() == [4]
    assert register.height == register["kommun"].n_unique() == 290


def test_packaged_register_spells_every_municipality_as_scb():
    scb = pl.read_csv(REFERENCE / "municipalities-sweden.csv", schema_overrides={"kommunkod": pl.String})
    register = load_register()
    assert register["kommunkod"].to_list() == sorted(register["kommunkod"])
    assert_frame_equal(register.select("kommunkod", "kommun", "lan"), scb.sort("kommunkod"))


def test_habo_and_håbo_are_different_municipalities():
    units = pl.DataFrame({"unit": ["a", "b", "c"], "municipality": ["Håbo", "HABO", "Hoganas"]})
    got = unit_municipalities(units, load_register())
    assert got["kommunkod"].to_list() == ["0305", "0643", "1284"]


# --- unit identity: å/ä/ö kept, the words around a name dropped ------------------------

from kvinnofrid.spec import municipalities  # noqa: E402
from kvinnofrid.spec.municipalities import register_name, unit_key  # noqa: E402

NAMES = ["Håbo", "Habo", "Sigtuna", "Göteborg", "Falun", "Gotland", "Stockholm", "Borås", "Upplands Väsby"]


def test_unit_key_keeps_swedish_letters_but_not_case_or_space():
    assert unit_key("  HÅBO ") == unit_key("håbo") != unit_key("Habo")
    assert unit_key("Enskede–Årsta–Vantör") == unit_key("enskede-årsta-vantör")
    assert unit_key("Upplands  Väsby") == "upplands väsby"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Håbo", "Håbo"),
        ("Habo", "Habo"),
        ("HABO KOMMUN", "Habo"),
        ("håbo kommun", "Håbo"),
        ("Sigtuna kommun", "Sigtuna"),
        ("Göteborgs Stad", "Göteborg"),
        ("Falu kommun", "Falun"),
        ("Region Gotland", "Gotland"),
        ("Stockholms stad", "Stockholm"),
        ("Borås Stad", "Borås"),
        ("Upplands Väsby kommun", "Upplands Väsby"),
        ("Ingenstans", None),
        ("", None),
    ],
)
def test_register_name(text, name):
    assert register_name(text, NAMES) == name


def test_a_configured_district_names_its_municipality():
    districts = {"Spånga-Tensta": "Stockholm"}
    assert register_name("Spånga-Tensta stadsdelsförvaltning", NAMES, districts) == "Stockholm"
    assert register_name("spånga–tensta", NAMES, districts) == "Stockholm"


# ---------------------------------------------------------------- comparison groups from a file


def _grouping_file(path, rows):
    path.write_text("kommunkod,grupp\n" + "".join(f"{k},{g}\n" for k, g in rows), encoding="utf-8")
    return path


def test_a_grouping_file_gives_every_municipality_its_group(tmp_path):
    register = municipalities.load_register()
    codes = register["kommunkod"].to_list()
    rows = [(k, f"Grupp {int(k) % 3}") for k in codes]
    groups = municipalities.read_groups(_grouping_file(tmp_path / "g.csv", rows), register)
    assert len(groups) == len(codes) and groups[codes[4]] == f"Grupp {int(codes[4]) % 3}"


def test_a_grouping_file_missing_a_municipality_or_naming_an_unknown_code_is_a_clear_message(tmp_path):
    register = municipalities.load_register()
    codes = register["kommunkod"].to_list()
    first = register.row(0, named=True)
    missing = _grouping_file(tmp_path / "m.csv", [(k, "A") for k in codes[1:]])
    with pytest.raises(municipalities.GroupFileError, match=f"1 kommuner saknar jämförelsegrupp: {first['kommun']}"):
        municipalities.read_groups(missing, register)
    unknown = _grouping_file(tmp_path / "u.csv", [(k, "A") for k in codes] + [("9999", "A")])
    with pytest.raises(municipalities.GroupFileError, match=r"rad \d+: kommunkoden '9999' finns inte"):
        municipalities.read_groups(unknown, register)
