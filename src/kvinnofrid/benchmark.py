"""Benchmark: wall time and peak memory of the pipeline, printed, never asserted.

    python -m kvinnofrid.benchmark --scale demo|national [--data DIR]
        [--units 290 --cases 1000000 --rounds 2 --xlsx-share 0.9] [--cores 2] [--repeat 3]
        [--keep DIR] [--json FILE] [--skip kommuner]

Everything runs in a scratch folder (a copy of the raw data and fresh Snakemake work
folders), so the repository's own results/, interim/ and logs/ are never touched. On
one machine, in one run, with the median over ``--repeat`` runs, it prints:

1. the bare read: every raw export into memory (polars csv, fastexcel xlsx) in
   ``--cores`` processes, nothing else: the floor the pipeline is compared with;
2. raw → quality + all 27 tables (``snakemake quality tables``) and its ratio to 1;
3. raw → the default target (every national output), in a fresh work folder;
4. a rerun of the default target with nothing changed;
5. a rerun after one unit's export really changed (its last case removed), and the
   jobs that ran per rule;
6. the comparison reports of every unit and län (target ``kommuner``);

and per rule the jobs that ran, their longest wall time, CPU time and peak memory, read
from the benchmark file Snakemake writes for every job (each rule's ``benchmark:``,
``logs/benchmarks/<rule>/…``: the resident memory of the job's process tree, sampled
every 0.5 s for 30 s and every 30 s after), the largest job first, beside the exact peak
of the largest single process of the run (``getrusage`` of the children, Snakemake
itself included), so a peak between two samples is not missed unnoticed. ``--scale national`` generates the
data with ``kvinnofrid demo --units … --cases … --rounds …`` unless ``--data`` names
a data set that already exists.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCALES = {
    "demo": {"units": None, "cases": None, "rounds": None},
    "national": {"units": 290, "cases": 1_000_000, "rounds": 2},
}
STEPS = ("tables", "all", "noop", "change", "kommuner")
TABLES_TARGETS = ("quality", "tables")


# --------------------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kvinnofrid.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="demo",
        help="demo: de levererade demodata; national: 290 enheter (standard: demo)",
    )
    parser.add_argument(
        "--data", default=None, help="färdig rådatamapp att mäta på (kopieras; standard: data-raw, eller genererad)"
    )
    parser.add_argument("--units", type=int, default=None, help="antal enheter vid generering (national: 290)")
    parser.add_argument("--cases", type=int, default=None, help="antal ärenden vid generering (national: 1000000)")
    parser.add_argument("--rounds", type=int, default=None, help="antal omgångar vid generering (national: 2)")
    parser.add_argument(
        "--xlsx-share",
        type=float,
        default=None,
        help="andel xlsx-filer vid generering, t.ex. 0.1 (mest csv) eller 0.9 (mest xlsx); standard: generatorns",
    )
    parser.add_argument("--cores", type=int, default=2, help="kärnor för Snakemake och läsningen (standard: 2)")
    parser.add_argument("--repeat", type=int, default=3, help="körningar per mått; medianen visas (standard: 3)")
    parser.add_argument("--keep", default=None, help="behåll arbetsmapparna här (annars en temporär mapp)")
    parser.add_argument("--json", default=None, help="skriv måtten också som JSON till denna fil")
    parser.add_argument("--configfile", default=str(ROOT / "config.yaml"), help="konfiguration (standard: config.yaml)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=STEPS,
        help="hoppa över ett steg (kan upprepas), t.ex. --skip kommuner",
    )
    args = parser.parse_args(argv)
    for key, value in SCALES[args.scale].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.repeat < 1 or args.cores < 1:
        parser.error("--repeat och --cores måste vara minst 1")
    if "all" in args.skip:  # the reruns and the unit reports start from the default target's run
        args.skip = sorted(set(args.skip) | {"noop", "change", "kommuner"})
    return args


def generate_command(args: argparse.Namespace, out: Path) -> list[str] | None:
    """The `kvinnofrid demo` call that writes the data set, or None when the data is given
    (``--data``) or is the shipped demo set."""
    if args.data is not None or args.units is None:
        return None
    return [
        sys.executable,
        "-m",
        "kvinnofrid.cli",
        "demo",
        "--out",
        str(out),
        "--units",
        str(args.units),
        "--cases",
        str(args.cases),
        "--rounds",
        str(args.rounds),
        *(["--xlsx-share", str(args.xlsx_share)] if args.xlsx_share is not None else []),
    ]


# --------------------------------------------------------------------------- the bare read


def _read_timed(path: str) -> tuple[int, float]:
    """:func:`_read_one` in a worker: rows read and the CPU seconds it took (all threads)."""
    start = time.process_time()
    rows = _read_one(path)
    return rows, time.process_time() - start


def _read_one(path: str) -> int:
    """One export into memory, as the cheapest reader does it: rows read."""
    import fastexcel
    import polars as pl

    if path.lower().endswith(".xlsx"):
        reader = fastexcel.read_excel(path)
        return sum(
            reader.load_sheet(name, header_row=None, dtypes="string").to_polars().height for name in reader.sheet_names
        )
    head = Path(path).read_bytes()[:4096].decode("utf-8", "replace").splitlines()[:1] or [""]
    separator = max(";,\t", key=head[0].count)
    try:
        return pl.read_csv(
            path,
            separator=separator,
            has_header=False,
            infer_schema=False,
            encoding="utf8-lossy",
            truncate_ragged_lines=True,
        ).height
    except Exception:  # a defect variant (unbalanced quote, …): the bytes are read all the same
        return len(Path(path).read_bytes().splitlines())


def export_files(data: Path) -> list[Path]:
    from kvinnofrid.stages import rawfiles

    return [f.path for f in rawfiles.discover(data)]


def bare_read(files: list[Path], processes: int) -> tuple[float, int, float]:
    """Wall time of reading every file in ``processes`` worker processes (started and
    stopped inside the timing, as the pipeline pays for its processes), rows read and
    the CPU seconds the reading took (summed over the workers: on a shared machine the
    CPU time varies less than the wall time)."""
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        done = pool.map(_read_timed, [str(p) for p in files], chunksize=1)
    return time.perf_counter() - start, sum(rows for rows, _ in done), sum(cpu for _, cpu in done)


# --------------------------------------------------------------------------- one Snakemake run


@dataclass
class JobRecord:
    """One job's record from its benchmark file (the rule's ``benchmark:`` directive,
    ``logs/benchmarks/<rule>/…tsv``): Snakemake measures the job's process tree, the
    script and what it starts (Quarto), every 0.5 s for 30 s and every 30 s after."""

    rule: str
    seconds: float
    rss_mib: float | None  # None when the job ended before the first measurement
    cpu_seconds: float | None
    ended: float = 0.0  # when the job ended (its benchmark file's time, a time.time())


@dataclass
class Run:
    seconds: float
    jobs: dict[str, int]
    records: list[JobRecord] = field(default_factory=list)
    process_max_mib: float = 0.0  # getrusage: the largest single process of the run
    cpu_seconds: float = 0.0  # getrusage: user + system time of every process of the run
    load_average: float = 0.0  # the machine's 1-minute load average when the run ended
    logged_cpu: dict[str, float] = field(default_factory=dict)  # rule -> its jobs' CPU s from their logs
    ended: float = 0.0  # when the run ended (a time.time())

    def after_last(self, rule: str) -> float | None:
        """Seconds from the end of ``rule``'s last job to the end of the run (None: no job)."""
        ends = [r.ended for r in self.records if r.rule == rule]
        return max(0.0, self.ended - max(ends)) if ends else None

    @property
    def peak_mib(self) -> float:
        """The run's peak memory: its largest job's process tree (polled) or its largest
        single process (exact), whichever is larger."""
        return max([self.process_max_mib, *(r.rss_mib or 0.0 for r in self.records)])


BENCHMARKS = Path("logs") / "benchmarks"


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # "NA": nothing measured
        return None


def read_benchmark(path: Path, rule: str) -> JobRecord:
    """A job's benchmark file (Snakemake's TSV: s, h:m:s, max_rss, …, cpu_time)."""
    header, values = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[:2])
    row = dict(zip(header, values))
    return JobRecord(rule, float(row["s"]), _number(row["max_rss"]), _number(row["cpu_time"]))


def jobs_since(workdir: Path, since: float) -> list[JobRecord]:
    """The jobs that ended in ``workdir`` at or after ``since`` (a ``time.time()``): each
    writes its benchmark file as it ends, so these are exactly the jobs that ran. The
    rule is the file's first folder under logs/benchmarks/ (the rules name them so)."""
    folder = workdir / BENCHMARKS
    found = sorted(p for p in folder.rglob("*.tsv") if p.stat().st_mtime >= since) if folder.is_dir() else []
    records = [read_benchmark(p, p.relative_to(folder).parts[0].removesuffix(".tsv")) for p in found]
    return [replace(r, ended=p.stat().st_mtime) for r, p in zip(records, found, strict=True)]


def logged_cpu_since(workdir: Path, since: float) -> dict[str, float]:
    """CPU seconds per rule from the logs of the jobs that ended at or after ``since``:
    each job's last line (kvinnofrid.scriptrunner) is exact, where its benchmark file
    samples and misses much of a long job's time."""
    from kvinnofrid.scriptrunner import job_cpu

    folder = workdir / "logs"
    cpu: dict[str, float] = {}
    for path in sorted(folder.rglob("*.log")) if folder.is_dir() else []:
        done = job_cpu(path.read_text(encoding="utf-8", errors="replace")) if path.stat().st_mtime >= since else None
        if done:
            cpu[done[0]] = cpu.get(done[0], 0.0) + done[1]
    return cpu


def count_jobs(records: list[JobRecord]) -> dict[str, int]:
    jobs: dict[str, int] = {}
    for record in records:
        jobs[record.rule] = jobs.get(record.rule, 0) + 1
    return jobs


# Runs Snakemake as a child and writes the largest RSS of any process below it and the
# CPU seconds of them all (getrusage of the children: exact, not sampled) to the file
# named first.
_MAXRSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}')\n"
    "sys.exit(code)\n"
)


def snakemake(workdir: Path, data: Path, targets: list[str], args: argparse.Namespace, log: Path) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir)]
    command += ["--cores", str(args.cores), "--configfile", args.configfile, "--config", f"data_raw={data}"]
    command += ["--", *targets]
    maxrss = log.with_suffix(".maxrss")
    # File times have a coarser clock than time.time() on some file systems: a second of
    # margin, which no job of a run that starts after the previous one ended can fall in.
    since = time.time() - 1
    start = time.perf_counter()
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall Snakemake
        code = subprocess.call(
            [sys.executable, "-c", _MAXRSS_WRAPPER, str(maxrss), *command], cwd=workdir, stdout=out, stderr=out
        )
    seconds = time.perf_counter() - start
    if code != 0:
        text = log.read_text(encoding="utf-8", errors="replace")
        raise SystemExit(f"Snakemake misslyckades ({' '.join(targets)}), se {log}:\n{text[-3000:]}")
    records = jobs_since(workdir, since)
    kib, cpu = [*maxrss.read_text().split(), "0", "0"][:2]
    load, cpu_logged = os.getloadavg()[0], logged_cpu_since(workdir, since)
    return Run(seconds, count_jobs(records), records, int(kib) / 1024, float(cpu), load, cpu_logged, time.time())


# --------------------------------------------------------------------------- changing one unit


def change_one_unit(data: Path) -> tuple[Path, bytes]:
    """Really change one unit's newest export: remove its last case (the last line of the
    first csv of the newest round whose last line is a plain record). Returns the file
    and its original bytes, to put back afterwards."""
    newest = sorted(p for p in data.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.name))[-1]
    for path in sorted(p for p in newest.rglob("*") if p.suffix.lower() == ".csv"):
        original = path.read_bytes()
        lines = original.rstrip(b"\r\n").splitlines(keepends=True)
        if len(lines) >= 3 and b'"' not in lines[-1] + lines[-2]:
            path.write_bytes(b"".join(lines[:-1]))
            return path, original
    raise SystemExit(f"Ingen csv-export i {newest} att ändra (steget 'en enhets export ändrad' kräver en).")


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Figures:
    scale: str
    data: str
    cores: int
    repeat: int
    files: int = 0
    rows_read: int = 0
    load_average: float = 0.0
    seconds: dict[str, list[float]] = field(default_factory=dict)  # step -> one value per repeat
    after_clean: dict[str, list[float]] = field(default_factory=dict)  # step -> s after its last clean job
    cpu: dict[str, list[float]] = field(default_factory=dict)  # step -> CPU seconds per repeat
    loads: dict[str, list[float]] = field(default_factory=dict)  # step -> load average at its end, per repeat
    peaks: dict[str, float] = field(default_factory=dict)  # step -> its largest peak memory (MiB) over the repeats
    jobs: dict[str, dict[str, int]] = field(default_factory=dict)  # step -> jobs per rule (last repeat)
    changed_file: str = ""
    reports: int = 0
    documents: dict[str, int] = field(default_factory=dict)  # kommuner: files per suffix (pdf, html, xlsx)
    step_rules: dict[str, dict[str, float]] = field(default_factory=dict)  # step -> rule -> CPU s (last repeat)
    rules: dict[str, dict[str, float]] = field(default_factory=dict)  # rule -> jobs, rss_mib, seconds, cpu
    process_max_mib: float = 0.0

    def median(self, step: str, of: str = "seconds") -> float | None:
        values = getattr(self, of).get(step)
        return statistics.median(values) if values else None

    def add(self, step: str, seconds: float, cpu: float, load: float) -> None:
        self.seconds.setdefault(step, []).append(seconds)
        self.cpu.setdefault(step, []).append(cpu)
        self.loads.setdefault(step, []).append(load)


def _record(figures: Figures, step: str, run: Run) -> None:
    print(
        f"  {LABELS[step]}: {run.seconds:.1f} s (CPU {run.cpu_seconds:.1f} s, belastning {run.load_average:.1f})",
        file=sys.stderr,
        flush=True,
    )
    figures.add(step, run.seconds, run.cpu_seconds, run.load_average)
    if (after := run.after_last("clean")) is not None:
        figures.after_clean.setdefault(step, []).append(round(after, 1))
    figures.peaks[step] = max(figures.peaks.get(step, 0.0), round(run.peak_mib, 1))
    figures.jobs[step] = run.jobs
    figures.process_max_mib = max(figures.process_max_mib, run.process_max_mib)
    cpu: dict[str, float] = {}
    for record in run.records:
        rule = figures.rules.setdefault(record.rule, {"jobs": 0, "rss_mib": 0.0, "seconds": 0.0, "cpu": 0.0})
        rule["rss_mib"] = max(rule["rss_mib"], round(record.rss_mib or 0.0, 1))
        rule["seconds"] = max(rule["seconds"], round(record.seconds, 1))
        cpu[record.rule] = cpu.get(record.rule, 0.0) + (record.cpu_seconds or 0.0)
    cpu |= {rule: seconds for rule, seconds in run.logged_cpu.items() if rule in cpu}  # exact where logged
    figures.step_rules[step] = {name: round(seconds, 1) for name, seconds in cpu.items()}
    for name, seconds in cpu.items():  # a rule's jobs summed, the largest run's sum
        figures.rules[name]["cpu"] = max(figures.rules[name]["cpu"], round(seconds, 1))
    for rule, count in run.jobs.items():
        figures.rules[rule]["jobs"] = max(figures.rules[rule]["jobs"], count)


def one_repeat(figures: Figures, data: Path, scratch: Path, args: argparse.Namespace) -> None:
    """Every step once, in fresh work folders under ``scratch``."""
    steps = [s for s in STEPS if s not in args.skip]
    logs = scratch / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    n = len(figures.seconds["read"]) - 1  # this repeat's number, for its folders and logs
    if "tables" in steps:
        run = snakemake(scratch / f"tables-{n}", data, list(TABLES_TARGETS), args, logs / f"tables-{n}.log")
        _record(figures, "tables", run)
    work = scratch / f"all-{n}"
    if "all" in steps:
        _record(figures, "all", snakemake(work, data, ["all"], args, logs / f"all-{n}.log"))
    if "noop" in steps:
        _record(figures, "noop", snakemake(work, data, ["all"], args, logs / f"noop-{n}.log"))
    if "kommuner" in steps:
        _record(figures, "kommuner", snakemake(work, data, ["kommuner"], args, logs / f"kommuner-{n}.log"))
        figures.documents = count_documents(work / "results" / "kommuner")
        figures.reports = figures.documents.get("pdf", 0)  # both editions
    if "change" in steps:
        path, original = change_one_unit(data)
        figures.changed_file = path.relative_to(data).as_posix()
        try:
            _record(figures, "change", snakemake(work, data, ["all"], args, logs / f"change-{n}.log"))
        finally:
            path.write_bytes(original)


def count_documents(folder: Path) -> dict[str, int]:
    """The files of the comparison reports by kind: PDF and HTML of both editions, the workbooks."""
    counts: dict[str, int] = {}
    for path in folder.rglob("*") if folder.is_dir() else []:
        if path.is_file() and path.suffix in (".pdf", ".html", ".xlsx"):
            counts[path.suffix[1:]] = counts.get(path.suffix[1:], 0) + 1
    return dict(sorted(counts.items()))


# --------------------------------------------------------------------------- the report

LABELS = {
    "read": "läsa alla filer till minnet",
    "tables": "rådata → kvalitet + alla 27 tabeller",
    "all": "rådata → standardmålet (allt nationellt)",
    "noop": "omkörning utan ändringar",
    "change": "omkörning, en enhets export ändrad",
    "kommuner": "rapporter för alla enheter och län",
}


def _seconds(value: float) -> str:
    return (
        f"{value:,.1f} s".replace(",", " ")
        if value < 600
        else f"{value / 60:.1f} min ({value:,.0f} s)".replace(",", " ")
    )


def _jobs(jobs: dict[str, int]) -> str:
    if not jobs:
        return "inga jobb"
    return f"{sum(jobs.values())} jobb: " + ", ".join(f"{rule} {n}" for rule, n in jobs.items())


# The targets of rule clean's work at national scale (design.md, issue 23).
RATIO_TARGET = 3.0
MEMORY_TARGET_MIB = 4096


def _tables_lines(figures: Figures, width: int) -> list[str]:
    """Raw → tables against the bare read (wall and CPU time) and its peak memory, each
    beside its target."""
    lines = []
    read, tables = figures.median("read"), figures.median("tables")
    if read:
        lines.append(
            f"{'  kvot mot läsningen (väggtid)':<{width}}{tables / read:>20.1f} ×   (mål högst {RATIO_TARGET:.0f} ×)"
        )
    after = figures.median("tables", "after_clean")
    if read and after is not None:
        lines.append(
            f"{'  därav efter sista clean-jobbet':<{width}}{after:>20.1f} s   "
            f"({after / read:.1f} × läsningen: compile, derive, tables efter varandra)"
        )
    read_cpu, tables_cpu = figures.median("read", "cpu"), figures.median("tables", "cpu")
    if read_cpu and tables_cpu:
        lines.append(
            f"{'  kvot mot läsningen (CPU-tid)':<{width}}{tables_cpu / read_cpu:>20.1f} ×"
            f"   ({tables_cpu:.1f} s mot {read_cpu:.1f} s)"
        )
    if "tables" in figures.peaks:
        peak = figures.peaks["tables"]
        lines.append(f"{'  högsta minne':<{width}}{peak:>18.0f} MiB   (mål under {MEMORY_TARGET_MIB / 1024:.0f} GB)")
    return lines


# The comparison reports of every unit and län at national scale (issue 23).
KOMMUNER_TARGET_S = 600


def _kommuner_lines(figures: Figures) -> list[str]:
    """The reports' CPU time beside the target, per rule, and the documents written."""
    lines = []
    cpu = figures.median("kommuner", "cpu")
    if cpu:
        lines.append(
            f"  CPU-tid {cpu:.1f} s, alltså minst {cpu / figures.cores:.0f} s väggtid på {figures.cores} kärnor"
            f" (mål under {KOMMUNER_TARGET_S // 60} min på 2 kärnor)"
        )
    rules = figures.step_rules.get("kommuner", {})
    jobs = figures.jobs.get("kommuner", {})
    if rules:
        lines.append(
            "  CPU-tid per regel: " + ", ".join(f"{r} {s:.1f} s ({jobs.get(r, 0)} jobb)" for r, s in rules.items())
        )
    docs = ", ".join(f"{n} {kind}" for kind, n in figures.documents.items())
    lines.append(f"  {figures.reports} rapporter, publicerade och interna" + (f"; filer: {docs}" if docs else ""))
    return lines


def format_report(figures: Figures) -> str:
    """The figures as plain aligned Swedish text (medians; every repeat in brackets)."""
    lines = [
        f"Benchmark kvinnofrid, skala {figures.scale}: {figures.cores} kärnor, median av {figures.repeat} körningar",
        f"data: {figures.data}: {figures.files} exportfiler, {figures.rows_read:,} rader lästa".replace(",", " "),
        f"maskinens belastning vid start: {figures.load_average:.1f} (1-minutersmedel; delad maskin ger spridning)",
        "",
    ]
    width = max(len(label) for label in LABELS.values()) + 2
    for step, label in LABELS.items():
        median = figures.median(step)
        if median is None:
            continue
        each = " / ".join(f"{v:.1f}" for v in figures.seconds[step])
        loads = " / ".join(f"{v:.1f}" for v in figures.loads.get(step, []))
        cpu = figures.median(step, "cpu")
        cpu_text = f"  CPU {cpu:.1f} s" if cpu else ""
        lines.append(f"{label:<{width}}{_seconds(median):>22}   [{each}]{cpu_text}  belastning [{loads}]")
        if step == "tables":
            lines += _tables_lines(figures, width)
        if step in ("noop", "change", "kommuner"):
            lines.append(f"  {_jobs(figures.jobs.get(step, {}))}")
        if step == "change":
            lines.append(f"  ändrad fil: {figures.changed_file} (sista ärendet borttaget)")
            full = figures.median("all")
            if full:
                lines.append(f"  andel av en hel körning: {100 * median / full:.0f} %")
        if step == "kommuner":
            lines += _kommuner_lines(figures)
    lines += [
        "",
        "per regel, största jobbet först (jobbens benchmark-filer; minnet mäts var 0,5 s i 30 s, sedan var 30 s);",
        "CPU-tid: regelns jobb tillsammans (jobbens loggar: processen och det den startade, exakt):",
        f"  {'regel':<18}{'jobb':>6}{'högsta RSS':>14}{'längsta jobb':>15}{'CPU-tid':>12}",
    ]
    for rule, peak in sorted(figures.rules.items(), key=lambda kv: -kv[1]["rss_mib"]):
        lines.append(
            f"  {rule:<18}{int(peak['jobs']):>6}{peak['rss_mib']:>10.0f} MiB{peak['seconds']:>13.1f} s{peak['cpu']:>10.1f} s"
        )
    lines.append(f"största enskilda process i någon körning (getrusage, exakt): {figures.process_max_mib:.0f} MiB")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def prepare_data(args: argparse.Namespace, scratch: Path) -> Path:
    """A scratch copy of the raw data (or the generated data set): the change step edits it."""
    data = scratch / "data-raw"
    command = generate_command(args, data)
    if command is None:
        shutil.copytree(Path(args.data) if args.data else ROOT / "data-raw", data)
        return data
    print(f"genererar data: {' '.join(command[3:])}", flush=True)
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(
            f"Kunde inte generera data med kvinnofrid demo ({done.stderr.strip()[-500:]}). "
            "Ange en färdig rådatamapp med --data, t.ex. --data /sökväg/national-1m."
        )
    return data


def run_benchmark(args: argparse.Namespace, scratch: Path) -> Figures:
    data = prepare_data(args, scratch)
    files = export_files(data)
    figures = Figures(
        args.scale,
        args.data or ("genererad" if args.units else str(ROOT / "data-raw")),
        args.cores,
        args.repeat,
        files=len(files),
        load_average=os.getloadavg()[0],
    )
    try:
        for _ in range(args.repeat):
            seconds, figures.rows_read, cpu = bare_read(files, args.cores)
            load = os.getloadavg()[0]
            print(f"  {LABELS['read']}: {seconds:.1f} s (CPU {cpu:.1f} s, belastning {load:.1f})", file=sys.stderr)
            figures.add("read", seconds, cpu, load)
            one_repeat(figures, data, scratch, args)
            print(f"körning {len(figures.seconds['read'])} av {args.repeat} klar", file=sys.stderr, flush=True)
    except (SystemExit, KeyboardInterrupt):  # a failed or stopped step: what was measured is kept
        print("Avbruten; måtten hittills:\n" + format_report(figures), file=sys.stderr)
        raise
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep:
        scratch = Path(args.keep)
        if scratch.exists() and any(scratch.iterdir()):
            raise SystemExit(f"--keep {scratch}: mappen finns och är inte tom; ange en ny eller tom mapp.")
        scratch.mkdir(parents=True, exist_ok=True)
        figures = run_benchmark(args, scratch)
    else:
        with tempfile.TemporaryDirectory(prefix="kvinnofrid-bench-") as folder:
            figures = run_benchmark(args, Path(folder))
    print(format_report(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(figures), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
