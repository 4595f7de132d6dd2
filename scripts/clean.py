"""Snakemake script of rule `clean`: one batch of raw exports, read and cleaned in one process.

Ingest and clean run together so that the export's raw text (values rejected by the
codebook, a name typed into Kön) never reaches a file: only the cleaned rows, the
issues (rejected values described by kind) and the row accounting are written, for
the whole batch (kvinnofrid/stages/batches.py).
"""

from pathlib import Path

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.spec import municipalities
    from kvinnofrid.stages import batches, pseudonym, rawfiles

    # The raw files are data_raw/<round>/[sub-folder/]<file>; the demo marker in data_raw,
    # which allows the demo key, is a declared input (input.demo_marker) when present.
    raw = smk.input.raw
    paths = [Path(raw)] if isinstance(raw, str) else [Path(p) for p in raw]
    files = [rawfiles.RawFile(smk.wildcards.round, file_id, path) for file_id, path in zip(smk.params.file_ids, paths)]
    # the run gave the demo key's notice once, when the workflow was parsed
    key = pseudonym.pseudonym_key(smk.params.key_env, rawfiles.round_folder_of(paths[0]).parent, notice=False)
    units = municipalities.known_units(smk.params.register or None, smk.params.districts, smk.params.aliases or None)
    period = (smk.params.period_start, smk.params.period_end)
    settings = batches.CleanSettings(period, smk.params.on_unreadable, key, units)
    cleaned = batches.clean_batch(files, settings, batches.CleanCache(smk.params.cache))
    batches.write_batch(
        cleaned,
        cases=smk.output.cases,
        risk=smk.output.risk,
        rejected=smk.output.rejected,
        issues=smk.output.issues,
        reports=smk.output.reports,
    )


run(main, snakemake)
