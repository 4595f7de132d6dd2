"""Rule `clean` per batch of exports: which batch, the per-file cache, the batch's files.

The cache must never change a result: an unchanged file is taken from it, a changed
file, other code or other settings clean again, and a partial or corrupt entry is
redone rather than trusted. Every row read stays accounted for per file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kvinnofrid.stages import batches, clean, ingest
from kvinnofrid.stages.clean import CleanResult
from kvinnofrid.stages.pseudonym import DEMO_KEY
from kvinnofrid.stages.rawfiles import RawFile, survey

ROOT = Path(__file__).resolve().parents[1]
DEMO_ROUND = ROOT / "data-raw" / "2023-10-10"
DEMO_FILES = ["vald_eksjo.csv", "Export_kalmar_20231010.xlsx"]
PERIOD = (dt.date(2022, 1, 1), dt.date(2023, 10, 10))
SETTINGS = batches.CleanSettings(PERIOD, "fail", DEMO_KEY)


@pytest.fixture
def raw_round(tmp_path) -> Path:
    folder = tmp_path / "data-raw" / "2023-10-10"
    folder.mkdir(parents=True)
    for name in DEMO_FILES:
        shutil.copy(DEMO_ROUND / name, folder / name)
    return folder


def _files(folder: Path) -> list[RawFile]:
    return survey(folder.parent)[0]


@pytest.fixture
def cleaned_count(monkeypatch) -> list[str]:
    """The files actually cleaned (not taken from the cache), in order."""
    done: list[str] = []
    real = clean.clean_pooled

    def counting(raw, sources, *args, **kwargs):
        done.extend(source.file for source in sources)
        return real(raw, sources, *args, **kwargs)

    monkeypatch.setattr(clean, "clean_pooled", counting)
    return done


def _fresh(raw_file: RawFile, settings: batches.CleanSettings = SETTINGS) -> tuple[dict, CleanResult]:
    raw, meta = ingest.read_export(raw_file.path, settings.key, settings.on_unreadable, raw_file.round)
    return meta, clean.clean_file(raw, meta, settings.period, raw_file.round_date)


def _assert_same(got: tuple[dict, CleanResult], expected: tuple[dict, CleanResult]) -> None:
    (_, a), (meta, b) = got, expected
    assert a.report(got[0]) == b.report(meta)
    for field in ("used", "excluded", "risk", "issues"):
        assert_frame_equal(getattr(a, field), getattr(b, field))


# ------------------------------------------------------------------ which batch


def test_every_file_is_in_one_batch_of_its_round_and_keeps_it_when_others_come_and_go():
    files = survey(ROOT / "data-raw")[0]
    planned = batches.plan(files)
    assert sorted(str(f.path) for group in planned.values() for f in group) == sorted(str(f.path) for f in files)
    assert all(f.round == round_ for (round_, _), group in planned.items() for f in group)
    assert len(planned) > 2  # the demo's 66 files are really split
    fewer = batches.plan(files[::3])
    where = {f: key for key, group in planned.items() for f in group}
    assert all(where[f] == key for key, group in fewer.items() for f in group)


# ---------------------------------------------------------------------- the cache


def test_a_second_run_takes_every_file_from_the_cache_with_the_same_result(raw_round, tmp_path, cleaned_count):
    files = _files(raw_round)
    cache = batches.CleanCache(tmp_path / "cache")
    first = batches.clean_batch(files, SETTINGS, cache)
    assert len(cleaned_count) == len(files)
    second = batches.clean_batch(files, SETTINGS, cache)
    assert len(cleaned_count) == len(files)  # nothing cleaned again
    for got, raw_file in zip(second, files):
        _assert_same(got, _fresh(raw_file))
    assert [r.file for _, r in first] == [r.file for _, r in second]


def test_a_changed_file_is_cleaned_again_and_the_others_are_not(raw_round, tmp_path, cleaned_count):
    files = _files(raw_round)
    cache = batches.CleanCache(tmp_path / "cache")
    batches.clean_batch(files, SETTINGS, cache)
    changed = raw_round / "vald_eksjo.csv"
    changed.write_bytes(changed.read_bytes().rsplit(b"\n", 2)[0] + b"\n")  # the last case removed
    cleaned_count.clear()
    again = batches.clean_batch(files, SETTINGS, cache)
    assert cleaned_count == ["2023-10-10/vald_eksjo.csv"]
    eksjo = next(r for _, r in again if r.file.endswith("vald_eksjo.csv"))
    assert eksjo.counts == _fresh(next(f for f in files if f.path == changed))[1].counts
    assert len(list(cache.folder.iterdir())) == len(files)  # the old entry is gone


@pytest.mark.parametrize(
    "other",
    [
        batches.CleanSettings((dt.date(2022, 6, 1), PERIOD[1]), "fail", DEMO_KEY),
        batches.CleanSettings(PERIOD, "skip", DEMO_KEY),
        batches.CleanSettings(PERIOD, "fail", b"another key"),
    ],
)
def test_other_settings_clean_every_file_again(raw_round, tmp_path, cleaned_count, other):
    files = _files(raw_round)
    cache = batches.CleanCache(tmp_path / "cache")
    batches.clean_batch(files, SETTINGS, cache)
    cleaned_count.clear()
    again = batches.clean_batch(files, other, cache)
    assert len(cleaned_count) == len(files)
    for got, raw_file in zip(again, files):
        _assert_same(got, _fresh(raw_file, other))


def test_other_code_cleans_every_file_again(raw_round, tmp_path, cleaned_count, monkeypatch):
    files = _files(raw_round)
    cache = batches.CleanCache(tmp_path / "cache")
    batches.clean_batch(files, SETTINGS, cache)
    cleaned_count.clear()
    monkeypatch.setattr(batches, "code_version", lambda: "a changed codebook")
    batches.clean_batch(files, SETTINGS, cache)
    assert len(cleaned_count) == len(files)


def test_the_key_is_not_in_the_cache_names_or_files(raw_round, tmp_path):
    key = b"hemlig-nyckel-1234567890"
    cache = batches.CleanCache(tmp_path / "cache")
    batches.clean_batch(_files(raw_round), batches.CleanSettings(PERIOD, "fail", key), cache)
    for path in cache.folder.rglob("*"):
        assert key.hex() not in path.name and key.decode() not in path.name
        if path.is_file():
            assert key not in path.read_bytes()


@pytest.mark.parametrize("damage", ["truncate", "flip", "no_manifest", "delete_part"])
def test_a_partial_or_corrupt_entry_is_redone_not_trusted(raw_round, tmp_path, cleaned_count, damage):
    files = _files(raw_round)
    cache = batches.CleanCache(tmp_path / "cache")
    batches.clean_batch(files, SETTINGS, cache)
    entry = next(cache.folder.iterdir())
    part = entry / "cases.arrow"
    if damage == "truncate":
        part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    elif damage == "flip":  # same size, one byte changed: only the digest can tell
        data = bytearray(part.read_bytes())
        data[len(data) // 2] ^= 0xFF
        part.write_bytes(bytes(data))
    elif damage == "no_manifest":  # as a run stopped before the entry was whole
        (entry / "manifest.json").unlink()
    else:
        part.unlink()
    cleaned_count.clear()
    again = batches.clean_batch(files, SETTINGS, cache)
    assert len(cleaned_count) == 1
    for got, raw_file in zip(again, files):
        _assert_same(got, _fresh(raw_file))


def test_a_left_over_temporary_entry_is_ignored_and_removed(raw_round, tmp_path, cleaned_count):
    files = _files(raw_round)
    cache = batches.CleanCache(tmp_path / "cache")
    name = batches.entry_name(files[0], SETTINGS, batches.code_version())
    (cache.folder / f".{name}.tmp-999999").mkdir(parents=True)  # a run killed while writing
    batches.clean_batch(files, SETTINGS, cache)
    assert len(cleaned_count) == len(files)
    assert sorted(p.name for p in cache.folder.iterdir()) == sorted(
        batches.entry_name(f, SETTINGS, batches.code_version()) for f in files
    )


# ---------------------------------------------------------- the batch's files


def _write(cleaned, folder: Path) -> dict[str, Path]:
    paths = {k: folder / f"batch-0.{k}" for k in ("cases", "risk", "rejected", "issues", "reports")}
    batches.write_batch(cleaned, **paths)
    return paths


def test_a_batch_reads_back_file_by_file_as_the_per_file_files_did(raw_round, tmp_path):
    files = _files(raw_round)
    cleaned = [_fresh(f) for f in files]
    paths = _write(cleaned, tmp_path / "out")
    back = batches.read_batch(
        reports=paths["reports"],
        cases=paths["cases"],
        risk=paths["risk"],
        rejected=paths["rejected"],
        issues=paths["issues"],
    )
    for i, ((meta, result), got) in enumerate(zip(cleaned, back)):
        single = {k: tmp_path / f"one{i}.{k}" for k in ("cases", "risk", "rejected", "issues", "report")}
        result.write(**single, meta=meta)
        expected = CleanResult.read(**single)
        assert got[0] == expected[0]
        _assert_same(got, expected)
    assert sum(r.risk.height for _, r in back) == pl.read_parquet(paths["risk"]).height > 0
    issues_only = batches.read_batch(reports=paths["reports"], issues=paths["issues"])
    assert [r.used.height for _, r in issues_only] == [0] * len(files)
    assert [r.issues.height for _, r in issues_only] == [r.issues.height for _, r in cleaned]


def test_rows_of_a_file_the_batch_does_not_report_stop_the_reading(raw_round, tmp_path):
    cleaned = [_fresh(f) for f in _files(raw_round)]
    paths = _write(cleaned, tmp_path / "out")
    _write(cleaned[:1], tmp_path / "fewer")
    with pytest.raises(ValueError, match="does not report"):
        batches.read_batch(reports=tmp_path / "fewer" / "batch-0.reports", cases=paths["cases"])


def test_with_skip_an_unreadable_file_is_reported_and_every_row_is_accounted_for(raw_round, tmp_path):
    (raw_round / "trasig.xlsx").write_bytes(b"inte en arbetsbok")
    files = _files(raw_round)
    settings = batches.CleanSettings(PERIOD, "skip", DEMO_KEY)
    cleaned = batches.clean_batch(files, settings, batches.CleanCache(tmp_path / "cache"))
    paths = _write(cleaned, tmp_path / "out")
    back = batches.read_batch(
        reports=paths["reports"], cases=paths["cases"], rejected=paths["rejected"], issues=paths["issues"]
    )
    assert len(back) == len(files)
    broken = next((meta, r) for meta, r in back if r.file.endswith("trasig.xlsx"))
    assert broken[0]["unreadable"] and broken[1].issues["rule"].to_list() == ["file_unreadable"]
    for _, result in back:
        c = result.counts
        assert c["rows_read"] == c["rows_used"] + c["rows_excluded"] + c["rows_quarantined"]
        assert result.used.height == c["rows_used"]
        assert result.excluded.height == c["rows_excluded"] + c["rows_quarantined"]
    assert sum(r.counts["rows_read"] for _, r in back) == sum(
        _fresh(f)[1].counts["rows_read"] for f in files if not f.path.name.startswith("trasig")
    )


def test_with_fail_an_unreadable_file_stops_the_batch_with_a_message_naming_it(raw_round, tmp_path):
    (raw_round / "trasig.xlsx").write_bytes(b"inte en arbetsbok")
    cache = batches.CleanCache(tmp_path / "cache")
    with pytest.raises(ingest.IngestError, match=r"2023-10-10/trasig\.xlsx"):
        batches.clean_batch(_files(raw_round), SETTINGS, cache)
    assert not (tmp_path / "cache").exists() or all(
        not p.name.startswith(".") for p in cache.folder.iterdir()
    )  # no half entry left


def test_the_written_out_normal_quantile_is_scipys():
    from scipy import stats

    from kvinnofrid.statistics import tables

    assert float(stats.norm.ppf(0.5 + tables.CONFIDENCE / 2)) == tables.Z


def test_a_batch_stopped_with_ctrl_c_keeps_its_whole_entries_and_the_rerun_cleans_the_rest(
    raw_round, tmp_path, monkeypatch, cleaned_count
):
    files = _files(raw_round)
    cache = batches.CleanCache(tmp_path / "cache")
    real, calls = cache.put, []

    def interrupted(name, meta, result):
        calls.append(meta["file"])
        if len(calls) == 2:  # Ctrl-C while the second file's entry is written
            raise KeyboardInterrupt
        return real(name, meta, result)

    monkeypatch.setattr(cache, "put", interrupted)
    with pytest.raises(KeyboardInterrupt):
        batches.clean_batch(files, SETTINGS, cache)
    assert len(list(cache.folder.iterdir())) == 1
    monkeypatch.setattr(cache, "put", real)
    cleaned_count.clear()
    again = batches.clean_batch(files, SETTINGS, cache)
    assert cleaned_count == [files[1].shown]
    for got, raw_file in zip(again, files):
        _assert_same(got, _fresh(raw_file))
