# SU-Kvinnofrid: from municipal SUreg exports to the national report.
#
# This file is the table of contents: configuration, its validation, the stages
# (one .smk per stage under workflow/rules/) and the default target. The logic lives
# in the `kvinnofrid` package (src/kvinnofrid); the scripts under scripts/ only
# move files. Run:  snakemake --cores all        (see README.md)
# Every run also reads profiles/default/config.yaml (Snakemake finds it beside this
# file): e.g. an interrupted run is finished by the plain rerun (rerun-incomplete).

import sys
from pathlib import Path

from snakemake.utils import min_version

from kvinnofrid.settings import ConfigError, load_settings

min_version("9.0")


configfile: "config.yaml"


# Every value the rules use is read from SETTINGS (absent optional keys take the
# schema's defaults), never from `config`: a minimal --configfile plans the whole
# workflow, and a wrong key stops the run with a Swedish message naming it.
try:
    SETTINGS = load_settings(
        config,
        Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml",
        project_dir=Path(workflow.basedir),
    )
except ConfigError as problem:
    raise WorkflowError(str(problem)) from None


# common.smk first: it defines every global the other rule files share.
include: "workflow/rules/common.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/compile.smk"
include: "workflow/rules/quality.smk"
include: "workflow/rules/derive.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/trend.smk"
include: "workflow/rules/kolada.smk"
# workbook.smk before kommuner.smk: target kommuner can then name area_workbooks.
include: "workflow/rules/workbook.smk"
include: "workflow/rules/kommuner.smk"
include: "workflow/rules/nationellt.smk"


# The Kolada key figures need a population: SCB's file (config kolada.population), or
# with the demo data the packaged made-up one. Without either, the national report,
# tables and quality pages are still built, and the run says once how to get them.
if SETTINGS.population_source is None:
    print(
        "Kolada-nyckeltalen (per 10 000 vuxna invånare) byggs inte: ange SCB:s befolkningsfil "
        "BE0101N1 under kolada: population i konfigurationen (se README, Kolada-nyckeltal).",
        file=sys.stderr,
    )


# The default target asks for every published output (docs/output-contract.md) by name,
# not only for the last ones: Snakemake remakes a missing file only when a target needs
# it, so a deleted table or figure would otherwise stay missing while the report that
# used it is up to date ("Nothing to be done").
rule all:
    default_target: True
    input:
        rules.tables.output,
        rules.statistics.output,
        rules.facts.output,
        rules.figures.output,
        rules.trend.output,
        rules.trend_figure.output,
        rules.quality.output,
        rules.render_report.output,
        rules.workbook.output,
        rules.national_bundle.output,
        rules.kolada.output if SETTINGS.population_source else [],
