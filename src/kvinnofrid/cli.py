"""Command line: `kvinnofrid demo | calibrate` (the pipeline itself runs with snakemake).

    kvinnofrid demo [--out data-raw] [--seed N]   regenerate the simulated demo exports
    kvinnofrid calibrate [--seed N]               demo values beside the published ones
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

DEFAULT_SEED = 20231010


def _seed_from_config(path: Path) -> int:
    if path.is_file():
        return int(yaml.safe_load(path.read_text(encoding="utf-8"))["demo"]["seed"])
    return DEFAULT_SEED


def cmd_demo(args: argparse.Namespace) -> int:
    from kvinnofrid import export_writer, simulate

    out = Path(args.out)
    seed = args.seed if args.seed is not None else _seed_from_config(Path(args.config))
    snapshots = simulate.simulate_rounds(simulate.SimulationSettings(seed=seed))
    try:
        # write_demo replaces only an earlier demo set: real exports are never touched.
        export_writer.write_demo(snapshots, out, export_writer.ExportSettings(seed=seed))
    except FileExistsError as refusal:
        print(refusal, file=sys.stderr)
        return 2
    print(f"Demodata skrivna till {out} (frö {seed}).")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from kvinnofrid import calibration

    return calibration.main(seed=args.seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kvinnofrid", description="SU-Kvinnofrid-verktyg")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="skriv om de simulerade demoexporterna")
    demo.add_argument("--out", default="data-raw", help="målmapp (standard: data-raw)")
    demo.add_argument("--seed", type=int, default=None, help="frö (standard: demo.seed i config.yaml)")
    demo.add_argument("--config", default="config.yaml", help="konfigurationsfil att läsa fröet från")
    demo.set_defaults(func=cmd_demo)
    calibrate = sub.add_parser("calibrate", help="jämför demodata med rapportens publicerade värden")
    calibrate.add_argument("--seed", type=int, default=DEFAULT_SEED)
    calibrate.set_defaults(func=cmd_calibrate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
