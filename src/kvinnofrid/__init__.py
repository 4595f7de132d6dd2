"""kvinnofrid: the SU-Kvinnofrid pipeline's logic (codebook, ingest, clean, derive,
tables, statistics, figures, text, render, simulate).

Snakemake scripts under ``scripts/`` only move files; everything else lives here.
"""

__version__ = "0.1.0"
