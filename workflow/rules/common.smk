# Globals shared by the rule files, defined here (included first) so that no rule
# file depends on the order of the others: the raw files found at parse time, the
# submission rounds, the diagrams of the registry, the trend and unit-report settings.

import sys

from kvinnofrid.spec import diagrams as diagram_registry
from kvinnofrid.stages import pseudonym as _pseudonym
from kvinnofrid.stages import batches, rawfiles
from kvinnofrid.spec.names import DEMO_MARKER

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


def size_class_population(wildcards):
    """SCB's population file (config kolada.population) when given: the size classes
    rest on its figures. Never the packaged demo population, which is made up; without
    the file the register's approximate figures are used (empty input)."""
    if SETTINGS.kolada_population is None:
        return []
    if not SETTINGS.kolada_population.is_file():
        raise WorkflowError(
            f"kolada.population: filen {SETTINGS.kolada_population} finns inte. Ange sökvägen till "
            "SCB:s befolkningstabell BE0101N1 exporterad som CSV (se README, Kolada-nyckeltal)."
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


def batch_raw_paths(wildcards):
    return [str(f.path) for f in BATCHES[(wildcards.round, wildcards.part)]]


def each_batch(pattern):
    """The pattern expanded for every batch (keys: round, part)."""
    return [pattern.format(round=r, part=p) for r, p in BATCHES]
