"""Snakemake script of rule `clean`: one raw export, read and cleaned in one process.

Ingest and clean run together so that the export's raw text (values rejected by the
codebook, a name typed into Kön) never reaches a file: only the cleaned rows, the
issues (rejected values described by kind) and the row accounting are written.
"""

import datetime as dt
from pathlib import Path

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.stages import clean, ingest, pseudonym, rawfiles

    # The raw file is data_raw/<round>/[sub-folder/]<file>; the demo marker in data_raw,
    # which allows the demo key, is a declared input (input.demo_marker) when present.
    raw_path = Path(smk.input.raw)
    key = pseudonym.pseudonym_key(smk.params.key_env, rawfiles.round_folder_of(raw_path).parent)
    round_date = dt.date.fromisoformat(smk.wildcards.round)
    raw, meta = ingest.read_export(raw_path, key, smk.params.on_unreadable, round_date.isoformat())
    result = clean.clean_file(raw, meta, (smk.params.period_start, smk.params.period_end), round_date)
    result.write(
        cases=smk.output.cases, risk=smk.output.risk, rejected=smk.output.rejected,
        issues=smk.output.issues, report=smk.output.report, meta=meta,
    )


run(main, snakemake)  # noqa: F821 (Snakemake injects `snakemake`)
