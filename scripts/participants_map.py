"""Snakemake script of rule `participants_map`: Figure 1 as a map, and its Markdown."""

from pathlib import Path

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.reporting import figure_map
    from kvinnofrid.spec.municipalities import load_register
    from kvinnofrid.statistics.participants import read_participants

    register = load_register(smk.input.register[0] if smk.input.register else None)
    status = figure_map.municipality_status(read_participants(smk.input.participants), register, smk.params.districts)
    shapes = figure_map.read_boundaries(Path(smk.params.boundaries), register)
    figure_map.save_map(figure_map.draw_map(shapes, status), smk.output.png, smk.output.svg)
    Path(smk.output.markdown).write_text(figure_map.figure_block("figures/karta.png", status), encoding="utf-8")


run(main, snakemake)
