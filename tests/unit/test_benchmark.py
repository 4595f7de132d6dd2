"""The benchmark's plumbing (kvinnofrid.benchmark) on tiny fakes: arguments, the jobs'
benchmark files it reads, the change it makes to one export and the report it prints.
Never its timings: those are printed, not asserted."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
import xlsxwriter

from kvinnofrid import benchmark


def test_national_scale_generates_290_units_unless_a_data_set_is_given():
    national = benchmark.parse_args(["--scale", "national"])
    command = benchmark.generate_command(national, Path("/tmp/out"))
    assert command[command.index("--units") + 1] == "290"
    assert command[command.index("--cases") + 1] == "1000000"
    assert command[command.index("--out") + 1] == "/tmp/out"
    given = benchmark.parse_args(["--scale", "national", "--data", "/data/national-50k"])
    assert benchmark.generate_command(given, Path("/tmp/out")) is None
    smaller = benchmark.parse_args(["--scale", "national", "--cases", "50000", "--rounds", "4"])
    command = benchmark.generate_command(smaller, Path("/tmp/out"))
    assert command[command.index("--cases") + 1] == "50000" and command[command.index("--rounds") + 1] == "4"
    assert "--xlsx-share" not in command  # the generator's own mix unless asked
    heavy = benchmark.parse_args(["--scale", "national", "--xlsx-share", "0.9"])
    command = benchmark.generate_command(heavy, Path("/tmp/out"))
    assert command[command.index("--xlsx-share") + 1] == "0.9"
    assert benchmark.generate_command(benchmark.parse_args([]), Path("/tmp/out")) is None  # demo: the shipped set


def test_skipping_the_default_target_skips_the_steps_that_start_from_it():
    args = benchmark.parse_args(["--skip", "all"])
    assert {"noop", "change", "kommuner"} <= set(args.skip)
    assert "tables" not in args.skip
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--repeat", "0"])


HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _benchmark(workdir: Path, name: str, seconds: float, rss: str, cpu: str, mtime: float) -> Path:
    path = workdir / "logs" / "benchmarks" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:0{int(seconds)}\t{rss}\t900\t80\t90\t0.1\t0.2\t40.0\t{cpu}\n")
    os.utime(path, (mtime, mtime))
    return path


def test_the_jobs_that_ran_are_the_benchmark_files_written_since_the_run_started(tmp_path):
    _benchmark(tmp_path, "clean/2023-10-10/batch-0.tsv", 3.2, "210.5", "2.9", mtime=1000)  # an earlier run
    _benchmark(tmp_path, "clean/2023-10-10/batch-1.tsv", 2.5, "180.0", "2.1", mtime=2000)
    _benchmark(tmp_path, "unit_report_intern/habo.tsv", 9.0, "700.25", "8.0", mtime=2001)
    _benchmark(tmp_path, "tables.tsv", 0.3, "NA", "NA", mtime=2002)  # ended before the first sample
    records = benchmark.jobs_since(tmp_path, since=1500)
    assert benchmark.count_jobs(records) == {"clean": 1, "unit_report_intern": 1, "tables": 1}
    by_rule = {r.rule: r for r in records}
    assert by_rule["unit_report_intern"] == benchmark.JobRecord("unit_report_intern", 9.0, 700.25, 8.0, ended=2001)
    assert by_rule["tables"].rss_mib is None and by_rule["tables"].cpu_seconds is None
    assert benchmark.jobs_since(tmp_path, since=3000) == []
    assert benchmark.jobs_since(tmp_path / "nowhere", since=0) == []


def test_a_steps_records_make_the_per_rule_figures():
    figures = _figures()
    run = benchmark.Run(
        12.0,
        {"clean": 2, "tables": 1},
        [
            benchmark.JobRecord("clean", 3.0, 300.0, 2.5),
            benchmark.JobRecord("clean", 4.0, 250.0, 3.5),
            benchmark.JobRecord("tables", 1.0, None, None),
        ],
        process_max_mib=512.0,
    )
    benchmark._record(figures, "change", run)
    # a rule's CPU time is its jobs' summed (2.5 + 3.5), the largest over the runs
    assert figures.rules["clean"] == {"jobs": 66, "rss_mib": 300.0, "seconds": 4.0, "cpu": 6.0}
    assert figures.rules["tables"] == {"jobs": 1, "rss_mib": 0.0, "seconds": 1.0, "cpu": 0.0}
    assert figures.process_max_mib == 512.0 and figures.seconds["change"][-1] == 12.0
    # the run's time after its last clean job: compile, derive and tables one after the other
    run.ended = 2010.0
    run.records = [replace(r, ended=end) for r, end in zip(run.records, [2000.0, 2002.5, 2009.0], strict=True)]
    assert run.after_last("clean") == 7.5 and run.after_last("derive") is None
    # the jobs' own logs, where they have the rule's time, replace the sampled figures
    run.logged_cpu = {"clean": 6.5 + 3.9, "tables": 0.8, "quality": 2.0}
    benchmark._record(figures, "noop", run)
    assert figures.step_rules["noop"] == {"clean": 10.4, "tables": 0.8}  # quality ran in no job of the step
    assert figures.rules["clean"]["cpu"] == 10.4 and figures.rules["tables"]["cpu"] == 0.8


def _job_log(workdir: Path, name: str, text: str, mtime: float) -> None:
    path = workdir / "logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_a_rules_cpu_time_is_summed_from_the_logs_of_the_jobs_that_ran(tmp_path):
    _job_log(tmp_path, "clean/2023-10-10/batch-0.log", "INFO regeln clean klar: CPU-tid 30.0 s\n", 1000)  # earlier
    _job_log(tmp_path, "clean/2023-10-10/batch-1.log", "INFO 72 filer\nINFO regeln clean klar: CPU-tid 44.5 s\n", 2000)
    _job_log(tmp_path, "clean/2023-05-15/batch-3.log", "INFO regeln clean klar: CPU-tid 20.1 s\n", 2001)
    _job_log(tmp_path, "unit_report/intern/habo.log", "INFO regeln unit_report_intern klar: CPU-tid 9.2 s\n", 2002)
    _job_log(tmp_path, "tables.log", "ERROR Oväntat fel (ValueError) i regeln tables.\n", 2003)  # failed: no line
    assert benchmark.logged_cpu_since(tmp_path, since=1500) == pytest.approx({"clean": 64.6, "unit_report_intern": 9.2})
    assert benchmark.logged_cpu_since(tmp_path / "nowhere", since=0) == {}


def _round(data: Path, name: str, files: dict[str, bytes]) -> Path:
    folder = data / name
    folder.mkdir(parents=True)
    for file, content in files.items():
        (folder / file).write_bytes(content)
    return folder


def test_one_units_newest_export_really_changes_and_can_be_put_back(tmp_path):
    quoted = b'Klient;Kommentar\r\n1;a\r\n2;"b"\r\n'
    plain = b"Klient;Kommentar\r\n1;a\r\n2;b\r\n3;c\r\n"
    _round(tmp_path, "2023-05-15", {"a.csv": plain})
    newest = _round(tmp_path, "2023-10-10", {"a.csv": quoted, "b.csv": plain, "c.xlsx": b"PK"})
    path, original = benchmark.change_one_unit(tmp_path)
    assert path == newest / "b.csv"  # the newest round; a quoted last line is left alone
    assert original == plain
    assert path.read_bytes() == b"Klient;Kommentar\r\n1;a\r\n2;b\r\n"  # the last case gone, nothing else
    assert (tmp_path / "2023-05-15" / "a.csv").read_bytes() == plain
    (newest / "b.csv").unlink()
    (newest / "a.csv").unlink()
    with pytest.raises(SystemExit, match="Ingen csv-export"):
        benchmark.change_one_unit(tmp_path)


def test_the_bare_read_reads_every_row_of_csv_and_xlsx(tmp_path):
    folder = _round(tmp_path, "2023-10-10", {"a.csv": "Klient;Ålder\n1;30\n2;41\n".encode("cp1252")})
    workbook = xlsxwriter.Workbook(str(folder / "b.xlsx"))
    sheet = workbook.add_worksheet()
    for row, values in enumerate([["Klient", "Ålder"], ["1", "30"], ["2", "41"], ["3", "52"]]):
        sheet.write_row(row, 0, values)
    workbook.close()
    files = benchmark.export_files(tmp_path)
    assert sorted(p.name for p in files) == ["a.csv", "b.xlsx"]
    seconds, rows, cpu = benchmark.bare_read(files, processes=2)
    assert rows == 3 + 4  # headers included: the read is of the files, nothing is interpreted
    assert seconds > 0 and cpu > 0


def _figures() -> benchmark.Figures:
    figures = benchmark.Figures("demo", "data-raw", cores=2, repeat=3, files=66, rows_read=5528, load_average=1.5)
    figures.seconds = {
        "read": [1.0, 3.0, 2.0],
        "tables": [30.0, 10.0, 20.0],
        "all": [100.0, 90.0, 80.0],
        "noop": [2.0, 2.5, 3.0],
        "change": [30.0, 20.0, 25.0],
    }
    figures.cpu = {"read": [1.5, 4.0, 2.5], "tables": [40.0, 20.0, 30.0]}
    figures.loads = {"read": [0.5, 7.25, 1.0], "tables": [2.0, 3.0, 4.0]}
    figures.peaks = {"tables": 3500.4}
    figures.after_clean = {"tables": [9.0, 4.0, 5.0]}
    figures.jobs = {"noop": {}, "change": {"clean": 1, "compile": 1, "tables": 1}}
    figures.changed_file = "2023-10-10/koping.csv"
    figures.rules = {
        "clean": {"jobs": 66, "rss_mib": 210.0, "seconds": 3.1, "cpu": 2.8},
        "compile": {"jobs": 1, "rss_mib": 640.0, "seconds": 9.9, "cpu": 12.0},
    }
    return figures


def test_the_report_shows_medians_the_ratio_the_jobs_that_ran_and_the_largest_job_first():
    text = benchmark.format_report(_figures())
    lines = text.splitlines()
    tables = next(line for line in lines if line.startswith("rådata → kvalitet"))
    assert "20.0 s" in tables and "[30.0 / 10.0 / 20.0]" in tables  # the median, every repeat beside it
    assert any("kvot mot läsningen (väggtid)" in line and "10.0 ×" in line for line in lines)  # 20 s / 2 s
    assert any("kvot mot läsningen (CPU-tid)" in line and "12.0 ×" in line for line in lines)  # 30 s / 2.5 s
    assert any("högsta minne" in line and "3500 MiB" in line and "4 GB" in line for line in lines)
    assert any("efter sista clean-jobbet" in line and "5.0 s" in line and "2.5 ×" in line for line in lines)
    assert "belastning [0.5 / 7.2 / 1.0]" in next(line for line in lines if line.startswith("läsa alla filer"))
    assert any(line.strip() == "inga jobb" for line in lines)  # the no-op rerun ran nothing
    assert "3 jobb: clean 1, compile 1, tables 1" in text
    assert "andel av en hel körning: 28 %" in text  # 25 s of 90 s
    rules = [line.split()[0] for line in lines if line.endswith(" s") and "MiB" in line]
    assert rules == ["compile", "clean"]
    assert next(line for line in lines if line.strip().startswith("clean")).endswith("2.8 s")
    assert "rapporter för alla enheter" not in text  # a step not run is not shown
    for label in ("läsa alla filer", "rådata → standardmålet", "omkörning utan ändringar"):
        assert sum(line.startswith(label) for line in lines) == 1


def test_the_comparison_reports_show_their_cpu_time_per_rule_and_the_documents_written(tmp_path):
    for name in ("a.pdf", "a.html", "a.xlsx", "b.pdf", "b.html", "intern/a.pdf", "intern/a.html", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert benchmark.count_documents(tmp_path) == {"html": 3, "pdf": 3, "xlsx": 1}
    assert benchmark.count_documents(tmp_path / "nowhere") == {}
    figures = _figures()
    run = benchmark.Run(
        700.0,
        {"unit_reports": 2, "unit_workbooks": 1},
        [
            benchmark.JobRecord("unit_reports", 300.0, 500.0, 280.0),
            benchmark.JobRecord("unit_reports", 310.0, 510.0, 300.5),
            benchmark.JobRecord("unit_workbooks", 40.0, 300.0, 39.0),
        ],
        cpu_seconds=1230.0,
        load_average=3.5,
    )
    benchmark._record(figures, "kommuner", run)
    figures.documents = benchmark.count_documents(tmp_path)
    figures.reports = figures.documents["pdf"]
    lines = benchmark.format_report(figures).splitlines()
    head = next(line for line in lines if line.startswith("rapporter för alla enheter"))
    assert "11.7 min (700 s)" in head and "CPU 1230.0 s" in head and "belastning [3.5]" in head
    assert any("minst 615 s väggtid på 2 kärnor" in line and "mål under 10 min" in line for line in lines)
    assert any("unit_reports 580.5 s (2 jobb), unit_workbooks 39.0 s (1 jobb)" in line for line in lines)
    assert any("3 rapporter" in line and "3 html, 3 pdf, 1 xlsx" in line for line in lines)
