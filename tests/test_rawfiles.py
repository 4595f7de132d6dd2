"""Raw exports are found by round folder, with stable ASCII ids."""

import datetime as dt

import pytest

from kvinnofrid.stages.rawfiles import discover


def test_discover_rounds_cutoff_and_ignored_files(tmp_path):
    for name in ("2023-05-15/b.csv", "2023-05-15/A b.xlsx", "2023-10-10/a.csv", "2023-10-10/~$a.xlsx"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "README.md").write_text("docs")
    (tmp_path / "demodata.yaml").write_text("demo")
    found = discover(tmp_path)
    assert [(f.round, f.file_id) for f in found] == [
        ("2023-05-15", "a-b-xlsx"),
        ("2023-05-15", "b-csv"),
        ("2023-10-10", "a-csv"),
    ]
    assert [f.round for f in discover(tmp_path, cutoff=dt.date(2023, 6, 1))] == ["2023-05-15"] * 2


def test_names_with_one_slug_get_distinct_ids(tmp_path):
    (tmp_path / "2023-10-10").mkdir()
    (tmp_path / "2023-10-10" / "Å.csv").write_text("x")
    (tmp_path / "2023-10-10" / "A.csv").write_text("x")
    assert sorted(f.file_id for f in discover(tmp_path)) == ["a-csv", "a-csv-2"]


def test_a_round_folder_that_is_not_a_date_is_an_error(tmp_path):
    (tmp_path / "oktober").mkdir()
    with pytest.raises(ValueError, match="ÅÅÅÅ-MM-DD"):
        discover(tmp_path)


def _touch(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def test_files_that_are_not_exports_are_skipped_and_listed(tmp_path):
    from kvinnofrid.stages.rawfiles import survey

    _touch(
        tmp_path,
        "2023-10-10/a.csv",
        "2023-10-10/Thumbs.db",
        "2023-10-10/.DS_Store",
        "2023-10-10/desktop.ini",
        "2023-10-10/~$a.xlsx",
        "2023-10-10/.hemlig.csv",
        "2023-10-10/__MACOSX/._a.csv",
        "2023-10-10/._b.csv",
    )
    found, skipped = survey(tmp_path)
    assert [f.file_id for f in found] == ["a-csv"]
    reasons = {s.file: s.reason for s in skipped}
    assert set(reasons) == {
        "Thumbs.db",
        ".DS_Store",
        "desktop.ini",
        "~$a.xlsx",
        ".hemlig.csv",
        "__MACOSX/._a.csv",
        "._b.csv",
    }
    assert "låsfil" in reasons["~$a.xlsx"] and "systemfil" in reasons["Thumbs.db"]
    assert all(s.round == "2023-10-10" for s in skipped)


def test_exports_in_a_sub_folder_of_a_round_are_read(tmp_path):
    _touch(
        tmp_path, "2023-10-10/a.csv", "2023-10-10/nedladdning/Export Boden.xlsx", "2023-10-10/nedladdning/inre/c.csv"
    )
    found = discover(tmp_path)
    assert [(f.file_id, f.path.relative_to(tmp_path).as_posix()) for f in found] == [
        ("a-csv", "2023-10-10/a.csv"),
        ("nedladdning-export-boden-xlsx", "2023-10-10/nedladdning/Export Boden.xlsx"),
        ("nedladdning-inre-c-csv", "2023-10-10/nedladdning/inre/c.csv"),
    ]


def test_a_file_with_another_extension_is_still_offered_to_ingest(tmp_path):
    # Not a known system file: ingest decides (and on_unreadable_file applies), never a silent skip.
    _touch(tmp_path, "2023-10-10/export.pdf")
    assert [f.file_id for f in discover(tmp_path)] == ["export-pdf"]
