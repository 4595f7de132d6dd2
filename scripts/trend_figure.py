"""Snakemake script of rule `trend_figure`: the round comparison drawn from trend.csv."""

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.reporting import figures, trend_report

    plot = trend_report.trend_figure(trend_report.read_trend(smk.input.csv), trend_report.read_rounds(smk.input.rounds))
    figures.save_figure(plot, smk.output.png, smk.output.svg)


run(main, snakemake)
