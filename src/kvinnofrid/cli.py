"""Command line: `kvinnofrid demo | calibrate` (the pipeline itself runs with snakemake).

kvinnofrid demo [--out data-raw] [--seed N]   regenerate the simulated demo exports
kvinnofrid demo --units 290 --cases 1000000 --rounds 2 [--truth DIR] [--out DIR]
                                              a national-scale demo set (kvinnofrid.demo.national)
kvinnofrid calibrate [--seed N]               demo values beside the published ones
kvinnofrid freeze-tables [--results results]  freeze the demo tables for the back-tests
kvinnofrid egen-rapport --exporter DIR --nationellt DIR [--ut DIR]
                                              one municipality's internal comparison report,
                                              from its own exports and the national bundle
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import yaml

from kvinnofrid.demo import calibration, export_writer, national, national_writer, simulate
from kvinnofrid.disclosure import bundle as bundle_module
from kvinnofrid.spec.diagrams import load_registry


def _seed_from_config(path: Path) -> int:
    """config ``demo.seed``; without a config file, the generator's own default."""
    if path.is_file():
        return int(yaml.safe_load(path.read_text(encoding="utf-8"))["demo"]["seed"])
    return simulate.SimulationSettings().seed


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    seed = args.seed if args.seed is not None else _seed_from_config(Path(args.config))
    national_only = (args.units, args.cases, args.rounds, args.truth, args.xlsx_share)
    if any(value is not None for value in national_only):
        return _national_demo(args, out, seed)
    snapshots = simulate.simulate_rounds(simulate.SimulationSettings(seed=seed))
    try:
        # write_demo replaces only an earlier demo set: real exports are never touched.
        export_writer.write_demo(snapshots, out, export_writer.ExportSettings(seed=seed))
    except FileExistsError as refusal:
        print(refusal, file=sys.stderr)
        return 2
    print(f"Demodata skrivna till {out} (frö {seed}).")
    return 0


def _national_demo(args: argparse.Namespace, out: Path, seed: int) -> int:
    """The national-scale set: every municipality, heavy-tailed sizes, cumulative rounds."""
    settings = national.NationalSettings(
        units=args.units if args.units is not None else 290,
        cases=args.cases if args.cases is not None else 50_000,
        rounds=args.rounds if args.rounds is not None else 2,
        seed=seed,
    )
    if settings.cases < 1:
        print("--cases ska vara minst 1.", file=sys.stderr)
        return 2
    if args.xlsx_share is not None and not 0 <= args.xlsx_share <= 1:
        print("--xlsx-share ska vara en andel mellan 0 och 1.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        dates = national.round_dates(settings.rounds)
        summary = national_writer.generate(
            settings, out, Path(args.truth) if args.truth else None, workers=args.workers, xlsx_share=args.xlsx_share
        )
    except FileExistsError as refusal:
        print(refusal, file=sys.stderr)
        return 2
    except ValueError as bad:
        print(bad, file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    print(
        f"Nationella demodata skrivna till {out} (frö {seed}): {summary['units']} enheter i "
        f"{summary['municipalities']} kommuner, {summary['rounds']} omgångar, {summary['files']} filer, "
        f"{summary['rows']} rader, {summary['cases']} ärenden att sammanställa, "
        f"{summary['defects']} planterade fel; tog {seconds:.1f} s."
    )
    if args.truth:
        print(f"Facit (ärendenivå) skrivet till {args.truth}.")
    print(
        f'Period och brytdatum: --config period=\'{{start: "{settings.period_start}", end: "{dates[-1]}"}}\' '
        f"cutoff={dates[-1]}"
    )
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else _seed_from_config(Path(args.config))
    return calibration.main(seed=seed)


ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ROOT / "tests" / "expected"


def cmd_freeze(args: argparse.Namespace) -> int:
    """Copy the demo run's tables and facts into tests/expected: the frozen back-test
    files. Only ever run on purpose, and review the diff before committing it."""
    results = Path(args.results)
    tables = sorted((results / "tables").glob("diagram_??.csv"))
    if len(tables) != len(load_registry().diagrams) or not (results / "facts.json").is_file():
        print(f"{results} saknar tabeller eller facts.json; kör först snakemake --cores all.", file=sys.stderr)
        return 2
    target = Path(args.expected)
    (target / "tables").mkdir(parents=True, exist_ok=True)
    for path in tables:
        (target / "tables" / path.name).write_bytes(path.read_bytes())
    (target / "facts.json").write_bytes((results / "facts.json").read_bytes())
    print(f"Frysta förväntade tabeller skrivna till {target}; granska diffen innan du checkar in.")
    return 0


def self_service_config(exports: Path, national: Path, manifest: dict) -> dict:
    """The configuration of a self-service run: the unit's own exports, the bundle, and
    the national run's period, cut-off and comparison settings (from the manifest), so
    that the unit's numbers are computed exactly as in the national run."""
    return {
        "data_raw": str(exports),
        "national_bundle": str(national),
        "period": dict(manifest["period"]),
        "cutoff": manifest["cutoff"],
        "suppression_threshold": manifest["threshold"],
        "size_classes": manifest["size_classes"],
        "unit_reports": {"diagrams": manifest["diagrams"]},
    }


def cmd_self_service(args: argparse.Namespace) -> int:
    """Run the workflow's target egen_rapport in --ut on the unit's exports alone."""
    exports, national, out = (Path(p).resolve() for p in (args.exporter, args.nationellt, args.ut))
    if not exports.is_dir():
        print(f"Mappen med exporter finns inte: {exports}", file=sys.stderr)
        return 2
    try:
        manifest = bundle_module.read_bundle(national).manifest
    except bundle_module.BundleError as problem:
        print(problem, file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    config = out / "egen-rapport.yaml"
    config.write_text(
        yaml.safe_dump(self_service_config(exports, national, manifest), allow_unicode=True), encoding="utf-8"
    )
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(out),
        "--configfile",
        str(ROOT / "config.yaml"),
        str(config),
        "--cores",
        str(args.cores),
        "egen_rapport",
    ]
    done = subprocess.run(command, check=False)
    if done.returncode == 0:
        print(
            f"Klart: den interna jämförelserapporten finns i {out / 'results' / 'kommuner' / 'intern'}, "
            f"kvalitetssidan i {out / 'results' / 'quality'}."
        )
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kvinnofrid", description="SU-Kvinnofrid-verktyg")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="skriv om de simulerade demoexporterna")
    demo.add_argument("--out", default="data-raw", help="målmapp (standard: data-raw)")
    demo.add_argument("--seed", type=int, default=None, help="frö (standard: demo.seed i config.yaml)")
    demo.add_argument("--config", default="config.yaml", help="konfigurationsfil att läsa fröet från")
    demo.add_argument(
        "--units", type=int, default=None, help="nationell skala: antal kommuner (1–290; några får två enheter)"
    )
    demo.add_argument("--cases", type=int, default=None, help="nationell skala: ärenden att sammanställa")
    demo.add_argument("--rounds", type=int, default=None, help="nationell skala: kumulativa omgångar (standard 2)")
    demo.add_argument("--truth", default=None, help="nationell skala: mapp för facit på ärendenivå")
    demo.add_argument("--workers", type=int, default=2, help="nationell skala: processer som skriver filerna")
    demo.add_argument(
        "--xlsx-share",
        type=float,
        default=None,
        help="nationell skala: andel enheter som exporterar xlsx, 0–1 (standard: hälften, lottat per enhet)",
    )
    demo.set_defaults(func=cmd_demo)
    calibrate = sub.add_parser("calibrate", help="jämför demodata med rapportens publicerade värden")
    calibrate.add_argument("--seed", type=int, default=None, help="frö (standard: demo.seed i konfigurationen)")
    calibrate.add_argument("--config", default="config.yaml", help="konfigurationsfil att läsa fröet från")
    calibrate.set_defaults(func=cmd_calibrate)
    freeze = sub.add_parser("freeze-tables", help="frys demokörningens tabeller som förväntade tabeller för testerna")
    freeze.add_argument("--results", default="results", help="resultatmappen från en körning på demodata")
    freeze.add_argument("--expected", default=str(EXPECTED), help="målmapp (standard: tests/expected)")
    freeze.set_defaults(func=cmd_freeze)
    own = sub.add_parser("egen-rapport", help="egen intern jämförelserapport mot det nationella paketet")
    own.add_argument(
        "--exporter", required=True, help="mapp med enhetens egna exporter, en undermapp per omgång (ÅÅÅÅ-MM-DD)"
    )
    own.add_argument("--nationellt", required=True, help="det nationella paketet (results/nationellt)")
    own.add_argument("--ut", default="egen-rapport", help="arbetsmapp för körningen (standard: egen-rapport)")
    own.add_argument("--cores", default="all", help="antal kärnor (standard: alla)")
    own.set_defaults(func=cmd_self_service)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
