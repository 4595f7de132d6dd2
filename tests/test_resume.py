"""An interrupted run's half-written outputs are redone by the plain rerun (kvinnofrid/resume.py)."""

from __future__ import annotations

import base64

from kvinnofrid.resume import clear_interrupted, interrupted_outputs


def _mark(workdir, output: str, chunk: int | None = None) -> None:
    encoded = base64.urlsafe_b64encode(output.encode()).decode()
    parts = [encoded] if chunk is None else [encoded[i : i + chunk] for i in range(0, len(encoded), chunk)]
    parts = ["@" + p for p in parts[:-1]] + [parts[-1]]
    marker = workdir / ".snakemake" / "incomplete"
    for part in parts[:-1]:
        marker = marker / part
    marker.mkdir(parents=True, exist_ok=True)
    (marker / parts[-1]).write_text('{"external_jobid": null}')


def test_half_written_outputs_are_emptied_and_aged_and_their_markers_removed(tmp_path):
    (tmp_path / "results" / "figures").mkdir(parents=True)
    (tmp_path / "results" / "figures" / "diagram_01.png").write_bytes(b"half")
    (tmp_path / "results" / "figures" / "diagram_02.png").write_bytes(b"whole")
    (tmp_path / "build" / "report").mkdir(parents=True)
    (tmp_path / "build" / "report" / "index.qmd").write_text("halv")
    _mark(tmp_path, "results/figures/diagram_01.png")
    _mark(tmp_path, "build/report", chunk=5)  # long names are split in segments
    _mark(tmp_path, "results/figures/never_written.svg")
    (tmp_path / ".snakemake" / "incomplete" / "migration_underway").write_text("")

    removed = clear_interrupted(tmp_path)

    assert sorted(map(str, removed)) == [
        "build/report",
        "results/figures/diagram_01.png",
        "results/figures/never_written.svg",
    ]
    # emptied and dated 1970, so Snakemake finds them older than their inputs and redoes
    # their jobs even when later outputs are still there; nothing new is created
    half = tmp_path / "results" / "figures" / "diagram_01.png"
    assert half.read_bytes() == b"" and half.stat().st_mtime == 0
    report = tmp_path / "build" / "report"
    assert list(report.iterdir()) == [] and report.stat().st_mtime == 0
    assert not (tmp_path / "results" / "figures" / "never_written.svg").exists()
    assert (tmp_path / "results" / "figures" / "diagram_02.png").read_bytes() == b"whole"
    assert [p.name for p in (tmp_path / ".snakemake" / "incomplete").rglob("*") if p.is_file()] == [
        "migration_underway"
    ]
    assert clear_interrupted(tmp_path) == []


def test_nothing_is_touched_while_a_lock_is_held(tmp_path):
    (tmp_path / "out.txt").write_text("being written")
    _mark(tmp_path, "out.txt")
    (tmp_path / ".snakemake" / "locks").mkdir(parents=True)
    (tmp_path / ".snakemake" / "locks" / "0.output.lock").write_text("out.txt")
    assert interrupted_outputs(tmp_path) == []
    assert clear_interrupted(tmp_path) == []
    assert (tmp_path / "out.txt").exists()


def test_a_fresh_folder_has_nothing_to_resume(tmp_path):
    assert clear_interrupted(tmp_path) == []
