# Globals shared by the rule files, defined here (included first) so that no rule
# file depends on the order of the others: the raw files found at parse time, the
# submission rounds, the diagrams of the registry, the trend and unit-report settings.

import json
import os
import sys

import kvinnofrid
from kvinnofrid import sources
from kvinnofrid.disclosure import kolada as kolada_figures
from kvinnofrid.spec import diagrams as diagram_registry
from kvinnofrid.stages import pseudonym as _pseudonym
from kvinnofrid.stages import batches, rawfiles
from kvinnofrid.spec.names import DEMO_MARKER

# The software every job runs with: the conda environment environment.yml creates
# (`conda env create -f environment.yml`, pinned like requirements.lock). Every rule
# declares it, and Snakemake activates it for each job when asked to deploy software
# (`--software-deployment-method conda`); otherwise the jobs run in the environment
# Snakemake itself runs in, e.g. .venv. The project itself is installed in it, so the
# environment is named, not built by Snakemake from a file per rule.
SOFTWARE_ENV = "../../environment.yml"

# The package version, shown in the report's colophon and the bundle's manifest: a
# param of the rules that write it, so a new version redoes them (params trigger).
VERSION = kvinnofrid.__version__

RAW = str(SETTINGS.data_raw)
INTERIM = str(SETTINGS.interim)
RESULTS = str(SETTINGS.results)

try:
    RAW_FILES, NOT_EXPORTS = rawfiles.survey(SETTINGS.data_raw, SETTINGS.cutoff)
except (FileNotFoundError, ValueError) as problem:
    raise WorkflowError(str(problem)) from None
if NOT_EXPORTS:
    print(
        f"{len(NOT_EXPORTS)} filer i omgångsmapparna är inte exporter (t.ex. Thumbs.db, Excels låsfiler) "
        f"och läses inte; de listas i {SETTINGS.results}/quality/not_exports.csv.",
        file=sys.stderr,
    )
if not RAW_FILES:
    raise WorkflowError(f"Inga exportfiler hittades i {RAW}/<ÅÅÅÅ-MM-DD>/ (till och med {SETTINGS.cutoff}).")
# Ingest and clean run per batch: a round's files in a few parts (stages/batches.py).
BATCHES = batches.plan(RAW_FILES)
ROUNDS = sorted({f.round for f in RAW_FILES})

# Adding a diagram is one registry entry: the tables and figures rules follow it.
DIAGRAMS = [f"{n:02d}" for n in diagram_registry.load_registry().numbers]
UNIT_DIAGRAMS = list(SETTINGS.unit_report_diagrams)
TREND = SETTINGS.trend

# Files the scripts read besides the data, declared as inputs (empty when absent):
# the demo marker allows the fixed demo key and marks the reports as demo data; a
# municipality register of the user's own replaces the packaged one.
DEMO_MARKER_FILE = [str(SETTINGS.data_raw / DEMO_MARKER)] if SETTINGS.is_demo_data else []
REGISTER_FILE = [str(SETTINGS.municipality_register)] if SETTINGS.municipality_register else []
# the user's alias file of unit spellings (config unit_aliases), when given
ALIAS_FILE = [str(SETTINGS.unit_aliases)] if SETTINGS.unit_aliases else []


def size_class_population(wildcards):
    """SCB's population file (config kolada.population) when given: the size classes
    rest on its figures. Never the packaged demo population, which is made up; without
    the file the register's approximate figures are used (empty input)."""
    if SETTINGS.kolada_population is None:
        return []
    if not SETTINGS.kolada_population.is_file():
        raise WorkflowError(
            f"kolada.population: filen {SETTINGS.kolada_population} finns inte. Ange sökvägen till "
            "SCB:s befolkningstabell BE0101N1 exporterad som CSV (se användarguiden, docs/anvandarguide.md, Kolada-nyckeltal)."
        )
    return [str(SETTINGS.kolada_population)]


# The pseudonymisation key is checked once, before any job (not once per ingest job).
try:
    _pseudonym.pseudonym_key(SETTINGS.pseudonym_key_env, SETTINGS.data_raw)
except _pseudonym.PseudonymKeyError as problem:
    raise WorkflowError(str(problem)) from None


wildcard_constraints:
    round=r"\d{4}-\d{2}-\d{2}",
    part=r"\d+",


def code_of(script):
    """The package files (modules, codebook, registry, templates) that scripts/<script>.py
    imports or reads, derived from its imports (kvinnofrid/sources.py). Every rule with a
    script declares them as input `code`, so a changed module reruns exactly the rules
    whose scripts use it (docs/reruns.md)."""
    return [str(path) for path in sources.of_script(Path(workflow.basedir) / "scripts" / f"{script}.py")]


def batch_raw_paths(wildcards):
    return [str(f.path) for f in BATCHES[(wildcards.round, wildcards.part)]]


def each_batch(pattern):
    """The pattern expanded for every batch (keys: round, part)."""
    return [pattern.format(round=r, part=p) for r, p in BATCHES]


def folder_of(*names):
    """A param: the folder that holds the rule's inputs `names` (their common path), so the
    folder is named by the inputs Snakemake tracks, not beside them."""
    return lambda wildcards, input: os.path.commonpath([path for name in names for path in getattr(input, name)])


# Input functions of the later rules (kept here, not among the rules: snakemake --lint).


def batches_up_to_round(pattern):
    """The pattern expanded for every batch of the rounds up to {round}."""
    return lambda wildcards: [pattern.format(round=r, part=p) for r, p in BATCHES if r <= wildcards.round]


def kolada_population(wildcards):
    """The SCB population file (config kolada.population). Without one, the packaged
    demo population, but only when the raw data is the demo data: its figures are
    made up, and key figures of real cases against them would look real. Checked when
    the DAG is built, so only a run that needs the key figures stops, and before any job."""
    if SETTINGS.kolada_population is not None:
        if not SETTINGS.kolada_population.is_file():
            raise WorkflowError(
                f"kolada.population: filen {SETTINGS.kolada_population} finns inte. Ange sökvägen till "
                "SCB:s befolkningstabell BE0101N1 exporterad som CSV (se användarguiden, docs/anvandarguide.md, Kolada-nyckeltal)."
            )
        return str(SETTINGS.kolada_population)
    if not (SETTINGS.data_raw / DEMO_MARKER).is_file():
        raise WorkflowError(
            f"kolada.population är tomt, och då används paketets påhittade demobefolkning. Den får bara "
            f"användas med demodata, men mappen {RAW} är inte märkt som demodata (filen {DEMO_MARKER} saknas). "
            "Ladda ner SCB:s tabell BE0101N1 (Folkmängden efter region, civilstånd, ålder och kön) som CSV "
            "från Statistikdatabasen för kommunerna och åren i uppföljningen och ange filen under "
            "kolada: population i config.yaml eller i din egen --configfile (se användarguiden, docs/anvandarguide.md, Kolada-nyckeltal)."
        )
    return str(kolada_figures.demo_population_path())


def report_batches(wildcards):
    """The batch manifests of `kommuner`, once unit_tables has named the areas."""
    areas = json.loads(Path(checkpoints.unit_tables.get().output.areas).read_text(encoding="utf-8"))
    count = min(REPORT_BATCHES, sum(a["kind"] in ("enhet", "lan") for a in areas))
    return [f"{INTERIM}/kommuner/reports/batch-{b}.json" for b in range(count)]


def own_internal_reports(wildcards):
    """The internal edition of every unit in data_raw, once unit_tables has named them."""
    areas = json.loads(Path(checkpoints.unit_tables.get().output.areas).read_text(encoding="utf-8"))
    return [
        f"{RESULTS}/kommuner/intern/{a['slug']}.{ext}" for a in areas if a["kind"] == "enhet" for ext in ("html", "pdf")
    ]
