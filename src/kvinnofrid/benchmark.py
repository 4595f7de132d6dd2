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

and the peak memory per rule: the resident memory of each job's process tree polled
with psutil, the largest job first, beside the exact peak of the largest single
process of the run (``getrusage`` of the children, Snakemake itself included), so a
peak between two polls is not missed unnoticed. ``--scale national`` generates the
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
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCALES = {
    "demo": {"units": None, "cases": None, "rounds": None},
    "national": {"units": 290, "cases": 1_000_000, "rounds": 2},
}
STEPS = ("tables", "all", "noop", "change", "kommuner")
TABLES_TARGETS = ("quality", "tables")
POLL_SECONDS = 0.2
# A job of a `script:` rule runs as `python …/.snakemake/scripts/tmpXXXX.<script>.py`;
# every script under scripts/ is named after its rule.
SCRIPT_JOB = re.compile(r"[/\\]\.snakemake[/\\]scripts[/\\]tmp[^./\\]*\.(\w+)\.py$")
MIB = 1024 * 1024


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
class JobPeak:
    rule: str
    rss_mib: float = 0.0
    seconds: float = 0.0
    cpu_by_pid: dict[int, float] = field(default_factory=dict)  # the last CPU seconds seen per process

    @property
    def cpu_seconds(self) -> float:
        """The job's CPU seconds (user + system) as last polled: its processes summed."""
        return sum(self.cpu_by_pid.values())


@dataclass
class Run:
    seconds: float
    jobs: dict[str, int]
    peaks: list[JobPeak] = field(default_factory=list)
    snakemake_mib: float = 0.0  # Snakemake's own process
    process_max_mib: float = 0.0  # getrusage: the largest single process of the run
    cpu_seconds: float = 0.0  # getrusage: user + system time of every process of the run
    load_average: float = 0.0  # the machine's 1-minute load average when the run ended

    @property
    def peak_mib(self) -> float:
        """The run's peak memory: its largest job's process tree (polled) or its largest
        single process (exact), whichever is larger."""
        return max([self.process_max_mib, *(p.rss_mib for p in self.peaks)])


def job_stats(log: str) -> dict[str, int]:
    """Jobs per rule from the first `Job stats:` table of a Snakemake log ({} when
    there was nothing to be done); the aggregate target `all` and the total left out."""
    lines = log.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Job stats:")
    except StopIteration:
        return {}
    jobs: dict[str, int] = {}
    for line in lines[start + 3 :]:
        match = re.fullmatch(r"\s*(\w+)\s+(\d+)\s*", line)
        if not match:
            break
        if match.group(1) not in ("total", "all", "kommuner"):
            jobs[match.group(1)] = int(match.group(2))
    return jobs


TARGET_RULES = ("all", "kommuner", "kommuner_tabeller", "egen_rapport")


def jobs_run(log: str) -> dict[str, int]:
    """Jobs per rule that really ran, from the `Finished jobid: N (Rule: X)` lines of a
    Snakemake log: unlike the first `Job stats:` table, this includes the jobs planned
    after a checkpoint (the unit reports after unit_tables). Targets are left out."""
    jobs: dict[str, int] = {}
    for rule in re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", log):
        if rule not in TARGET_RULES:
            jobs[rule] = jobs.get(rule, 0) + 1
    return jobs


class TreePoller:
    """Polls the process tree below ``pid``: per job (a script process and its children,
    e.g. Quarto) the largest summed RSS and how long it lived; and the RSS of Snakemake
    itself (the direct child of ``pid``)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.jobs: dict[int, JobPeak] = {}
        self.first_seen: dict[int, float] = {}
        self.cpu: dict[int, float] = {}
        self.snakemake_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreePoller:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        import psutil

        while not self._stop.wait(POLL_SECONDS):
            try:
                self.sample(psutil.Process(self.pid).children(recursive=True), time.perf_counter())
            except psutil.Error:
                continue

    def sample(self, processes, now: float) -> None:
        """One poll: ``processes`` are psutil processes (or stand-ins with pid, ppid(),
        cmdline(), memory_info() and cpu_times())."""
        info = {}
        for p in processes:
            try:
                info[p.pid] = (p.ppid(), p.cmdline(), p.memory_info().rss)
                cpu = p.cpu_times()
            except Exception:  # ended between the listing and the question
                continue
            self.cpu[p.pid] = cpu.user + cpu.system
        for ppid, _, rss in info.values():
            if ppid == self.pid:
                self.snakemake_mib = max(self.snakemake_mib, rss / MIB)
        roots = {pid: SCRIPT_JOB.search(" ".join(cmd[-1:])) for pid, (_, cmd, _) in info.items()}
        roots = {pid: m.group(1) for pid, m in roots.items() if m}
        totals: dict[int, int] = {}
        members: dict[int, list[int]] = {}
        for pid, (_, _, rss) in info.items():
            job = pid
            while job in info and job not in roots:
                job = info[job][0]
            if job in roots:
                totals[job] = totals.get(job, 0) + rss
                members.setdefault(job, []).append(pid)
        for job, rss in totals.items():
            peak = self.jobs.setdefault(job, JobPeak(roots[job]))
            start = self.first_seen.setdefault(job, now)
            peak.rss_mib = max(peak.rss_mib, rss / MIB)
            peak.seconds = now - start
            peak.cpu_by_pid.update({pid: self.cpu[pid] for pid in members[job] if pid in self.cpu})


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
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        str(args.cores),
        "--configfile",
        args.configfile,
        "--config",
        f"data_raw={data}",
        "--",
        *targets,
    ]
    maxrss = log.with_suffix(".maxrss")
    start = time.perf_counter()
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall Snakemake
        wrapper = subprocess.Popen(
            [sys.executable, "-c", _MAXRSS_WRAPPER, str(maxrss), *command],
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        with TreePoller(wrapper.pid) as poller:
            code = wrapper.wait()
    seconds = time.perf_counter() - start
    text = log.read_text(encoding="utf-8", errors="replace")
    if code != 0:
        raise SystemExit(f"Snakemake misslyckades ({' '.join(targets)}), se {log}:\n{text[-3000:]}")
    kib, cpu = [*maxrss.read_text().split(), "0", "0"][:2]
    return Run(
        seconds,
        jobs_run(text) or job_stats(text),
        list(poller.jobs.values()),
        poller.snakemake_mib,
        int(kib) / 1024,
        float(cpu),
        os.getloadavg()[0],
    )


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
    cpu: dict[str, list[float]] = field(default_factory=dict)  # step -> CPU seconds per repeat
    loads: dict[str, list[float]] = field(default_factory=dict)  # step -> load average at its end, per repeat
    peaks: dict[str, float] = field(default_factory=dict)  # step -> its largest peak memory (MiB) over the repeats
    jobs: dict[str, dict[str, int]] = field(default_factory=dict)  # step -> jobs per rule (last repeat)
    changed_file: str = ""
    reports: int = 0
    rules: dict[str, dict[str, float]] = field(default_factory=dict)  # rule -> jobs, rss_mib, seconds
    snakemake_mib: float = 0.0
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
    figures.peaks[step] = max(figures.peaks.get(step, 0.0), round(run.peak_mib, 1))
    figures.jobs[step] = run.jobs
    figures.snakemake_mib = max(figures.snakemake_mib, run.snakemake_mib)
    figures.process_max_mib = max(figures.process_max_mib, run.process_max_mib)
    cpu: dict[str, float] = {}
    for peak in run.peaks:
        rule = figures.rules.setdefault(peak.rule, {"jobs": 0, "rss_mib": 0.0, "seconds": 0.0, "cpu": 0.0})
        rule["rss_mib"] = max(rule["rss_mib"], round(peak.rss_mib, 1))
        rule["seconds"] = max(rule["seconds"], round(peak.seconds, 1))
        cpu[peak.rule] = cpu.get(peak.rule, 0.0) + peak.cpu_seconds
    for name, seconds in cpu.items():  # a rule's jobs summed, the largest run's sum
        figures.rules[name]["cpu"] = max(figures.rules[name].get("cpu", 0.0), round(seconds, 1))
    for rule, count in run.jobs.items():
        if rule in figures.rules:
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
        figures.reports = len(list((work / "results" / "kommuner").rglob("*.pdf")))  # both editions
    if "change" in steps:
        path, original = change_one_unit(data)
        figures.changed_file = path.relative_to(data).as_posix()
        try:
            _record(figures, "change", snakemake(work, data, ["all"], args, logs / f"change-{n}.log"))
        finally:
            path.write_bytes(original)


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
        lines.append(f"{label:<{width}}{_seconds(median):>22}   [{each}]  belastning [{loads}]")
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
            lines.append(f"  {figures.reports} rapporter, publicerade och interna (html och pdf)")
    lines += [
        "",
        "högsta minne (RSS) per regel, största jobbet först (psutil, var 0,2 s); CPU-tid: regelns jobb tillsammans:",
        f"  {'regel':<16}{'jobb':>6}{'högsta RSS':>14}{'längsta jobb':>15}{'CPU-tid':>12}",
    ]
    for rule, peak in sorted(figures.rules.items(), key=lambda kv: -kv[1]["rss_mib"]):
        lines.append(
            f"  {rule:<16}{int(peak['jobs']):>6}{peak['rss_mib']:>10.0f} MiB{peak['seconds']:>13.1f} s"
            f"{peak.get('cpu', 0.0):>10.1f} s"
        )
    lines.append(
        f"Snakemake själv: {figures.snakemake_mib:.0f} MiB; största enskilda process i någon körning "
        f"(getrusage, exakt): {figures.process_max_mib:.0f} MiB"
    )
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
