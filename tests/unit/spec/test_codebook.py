"""The codebook holds exactly the 29 variables of the reference and guards its own rules."""

import copy
from pathlib import Path

import polars as pl
import pytest
import yaml
from support.paths import REFERENCE

from kvinnofrid.spec import codebook
from kvinnofrid.spec.codebook import CodebookError, from_mapping, load, normalise

# libyaml's loader where there is one, as the codebook itself is read: the pure-Python
# one takes about half a second for the codebook, in every xdist worker's collection
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REFERENCE = yaml.load((REFERENCE / "variables.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
RAW = yaml.load((Path(codebook.__file__).parent / "codebook.yaml").read_text(encoding="utf-8"), Loader=_LOADER)


def _as_reference(var: codebook.Variable) -> dict:
    """A codebook variable in the layout of tests/reference/variables.yaml."""
    entry = {
        "suv": var.suv,
        "label": var.label,
        "phase": var.phase,
        "kind": var.kind,
        "personal": var.personal,
        "project_added": var.project_added,
        "comment": var.comment,
    }
    if var.options:
        entry["options"] = [
            {"code": o.code, "label": o.label, **({"project_added": True} if o.project_added else {})}
            for o in var.options
        ]
    if "rating_range" in var.extra:
        entry["rating_range"] = list(var.extra["rating_range"])
    return entry


def test_the_29_variables_of_the_reference_with_their_labels():
    cb = load()
    expected = {v["suv"]: v["label"] for v in REFERENCE["variables"]}
    assert len(expected) == 29
    assert {v.suv: v.label for v in cb.variables} == expected
    assert cb.phases == REFERENCE["phases"]


@pytest.mark.parametrize("reference", REFERENCE["variables"], ids=lambda v: f"SUV {v['suv']}")
def test_each_variable_matches_the_reference(reference):
    """Kind, personal flag, phase, Bilaga 2's * and every option code and label
    (the [assumption] additions included)."""
    var = next(v for v in load().variables if v.suv == reference["suv"])
    assert _as_reference(var) == reference


def test_personal_variables_are_handler_client_and_suggestions():
    assert {v.suv for v in load().personal} == {3, 4, 217}


def test_case_schema_types_follow_the_kinds():
    schema = codebook.case_schema()
    assert schema["sex"] == pl.Int8
    assert schema["interventions"] == pl.List(pl.Int8)
    assert schema["opened"] == pl.Date
    assert schema["age"] == pl.Int16
    assert "client" not in schema and "handler" not in schema and "risk_assessments" not in schema


def test_derived_labels_use_en_dashes_as_the_reference():
    cb = load()
    assert cb.age_group_labels() == ["18–24", "25–34", "35–44", "45–54", "55–64", "65–74", "75–"]
    assert cb.duration_bin_labels()[0] == "1–90"
    assert cb.duration_bin_labels()[-2:] == ["631–720", "721–"]


def test_normalise_ignores_case_space_and_swedish_letters():
    assert normalise("  Datum för  Aktualisering ") == normalise("datum for aktualisering")
    assert normalise("Avslutsorsak – verksamhet") == normalise("avslutsorsak - verksamhet")


def test_label_and_code_lookup():
    sex = load()["sex"]
    assert sex.label_of(2) == "Man"
    assert sex.code_of(" kvinna ") == 1
    with pytest.raises(KeyError, match="Kön"):
        sex.label_of(9)


def _broken(mutate) -> dict:
    raw = copy.deepcopy(RAW)
    mutate(raw)
    return raw


def _var(raw, name):
    return next(v for v in raw["variables"] if v["name"] == name)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: _var(r, "sex")["options"].append({"code": 1, "label": "Annat"}), "duplicate option codes"),
        (lambda r: _var(r, "origin").update(suv=14), "duplicate SUV"),
        (lambda r: _var(r, "interventions").update(options=[]), "needs options"),
        (lambda r: _var(r, "age").update(kind="number"), "kind 'number'"),
        (lambda r: r["derived"]["initiative_groups"][0]["codes"].append(2), "initiative_groups"),
        (lambda r: r["derived"]["housing_interventions"].append(99), "housing_interventions"),
        (lambda r: _var(r, "risk_assessments").pop("rating_range"), "rating_range"),
        (lambda r: _var(r, "origin").update(aliases=["Kön"]), "also names"),
    ],
)
def test_a_broken_codebook_is_refused_with_the_entry_named(mutate, message):
    with pytest.raises(CodebookError, match=message):
        from_mapping(_broken(mutate))
