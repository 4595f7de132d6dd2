"""Write the tiny test exports under .test/data-raw/ (committed; rerun only to change them).

Two units of one län and one size class (Eksjö and Vetlanda, Jönköpings län), every
other case of the demo population's final round (37 cases; 26 in the interim round),
in both submission rounds, written by the project's own export writer with the demo
marker. Small enough that the default target runs in about 30 s of CPU, big enough
that every national rule has rows to work on. Not enough for the unit reports
(`kommuner`): with two units in the country, a hidden count of one is the country's
minus the other's, and unit_tables stops with a SuppressionError.

    .venv/bin/python .test/make_data.py
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl

from kvinnofrid.demo import export_writer, simulate

UNITS = ("eksjo", "vetlanda")
OUT = Path(__file__).resolve().parent / "data-raw"
KEY = ["unit", "client", "opened"]


def tiny_snapshots() -> list[simulate.RoundSnapshot]:
    """The demo rounds cut down to UNITS and every other final-round case of them."""
    snapshots = simulate.simulate_rounds(simulate.SimulationSettings())
    final = snapshots[-1].cases.filter(pl.col("unit").is_in(UNITS))
    keep = final.select(KEY).sort(KEY).gather_every(2)
    return [
        dataclasses.replace(
            s,
            units=s.units.filter(pl.col("unit").is_in(UNITS)),
            cases=s.cases.join(keep, on=KEY, how="semi"),
            risk=s.risk.join(keep, on=KEY, how="semi"),
        )
        for s in snapshots
    ]


def main() -> None:
    small = tiny_snapshots()
    export_writer.write_demo(small, OUT, export_writer.ExportSettings(seed=simulate.SimulationSettings().seed))
    for s in small:
        print(f"{s.round}: {s.units.height} enheter, {s.cases.height} ärenden")


if __name__ == "__main__":
    main()
