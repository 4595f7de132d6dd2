# Shared helpers of the rules: the raw files found at parse time.

from kvinnofrid.stages import rawfiles

try:
    RAW_FILES = rawfiles.discover(SETTINGS.data_raw, SETTINGS.cutoff)
except (FileNotFoundError, ValueError) as problem:
    raise WorkflowError(str(problem)) from None
if not RAW_FILES:
    raise WorkflowError(
        f"Inga exportfiler hittades i {RAW}/<ÅÅÅÅ-MM-DD>/ (till och med {SETTINGS.cutoff})."
    )
RAW_BY_ID = {(f.round, f.file_id): f for f in RAW_FILES}

# The pseudonymisation key is checked once, before any job (not once per ingest job).
from kvinnofrid.stages import pseudonym as _pseudonym

try:
    _pseudonym.pseudonym_key(SETTINGS.pseudonym_key_env, SETTINGS.data_raw)
except _pseudonym.PseudonymKeyError as problem:
    raise WorkflowError(str(problem)) from None


wildcard_constraints:
    round=r"\d{4}-\d{2}-\d{2}",
    file_id=r"[a-z0-9-]+",


def raw_path(wildcards):
    return str(RAW_BY_ID[(wildcards.round, wildcards.file_id)].path)


def each_file(pattern):
    """The pattern expanded for every raw file (keys: round, file_id)."""
    return [pattern.format(round=f.round, file_id=f.file_id) for f in RAW_FILES]
