"""Raw exports are found by round folder, with stable ASCII ids."""

import datetime as dt

import pytest

from kvinnofrid.stages.rawfiles import discover, slugify


def test_slugify_makes_ascii_ids():
    assert slugify("SUreg export Årsta-Vantör 2023.xlsx") == "sureg-export-arsta-vantor-2023-xlsx"


def test_discover_rounds_cutoff_and_ignored_files(tmp_path):
    for name in ("2023-05-15/b.csv", "2023-05-15/A b.xlsx", "2023-10-10/a.csv", "2023-10-10/~$a.xlsx"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "README.md").write_text("docs")
    (tmp_path / "demodata.yaml").write_text("demo")
    found = discover(tmp_path)
    assert [(f.round, f.file_id) for f in found] == [
        ("2023-05-15", "a-b-xlsx"), ("2023-05-15", "b-csv"), ("2023-10-10", "a-csv")]
    assert [f.round for f in discover(tmp_path, cutoff=dt.date(2023, 6, 1))] == ["2023-05-15"] * 2


def test_names_that_slugify_alike_get_distinct_ids(tmp_path):
    (tmp_path / "2023-10-10").mkdir()
    (tmp_path / "2023-10-10" / "Å.csv").write_text("x")
    (tmp_path / "2023-10-10" / "A.csv").write_text("x")
    assert sorted(f.file_id for f in discover(tmp_path)) == ["a-csv", "a-csv-2"]


def test_a_round_folder_that_is_not_a_date_is_an_error(tmp_path):
    (tmp_path / "oktober").mkdir()
    with pytest.raises(ValueError, match="ÅÅÅÅ-MM-DD"):
        discover(tmp_path)
