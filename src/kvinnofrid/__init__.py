"""kvinnofrid: the SU-Kvinnofrid pipeline's logic (codebook, ingest, clean, derive,
tables, statistics, figures, text, render, simulate).

Snakemake scripts under ``scripts/`` only move files; everything else lives here.
"""

from importlib.metadata import PackageNotFoundError, version

# The one source of the version is pyproject.toml; Python reads it from the installed
# package's metadata (an editable install keeps the version it was installed with:
# reinstall after changing it). SemVer: a changed definition or column of a published
# table is a major version (CHANGELOG.md, docs/output-contract.md).
try:
    __version__ = version("kvinnofrid")
except PackageNotFoundError:  # the source tree imported without being installed
    __version__ = "0+unknown"
