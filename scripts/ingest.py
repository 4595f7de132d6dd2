"""Snakemake script of rule `ingest`: one raw export -> raw parquet + JSON metadata."""

from pathlib import Path

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.stages import ingest, pseudonym

    # The demo marker is a declared input when present: its folder allows the demo key.
    # Without it, data_raw only names the folder in the message asking for a key.
    folder = Path(smk.input.demo_marker[0]).parent if smk.input.demo_marker else Path(smk.params.data_raw)
    key = pseudonym.pseudonym_key(smk.params.key_env, folder)
    raw = Path(smk.input.raw)
    try:
        ingest.write_ingest(raw, smk.output.parquet, smk.output.meta, key, smk.wildcards.round)
    except ingest.IngestError as problem:
        if smk.params.on_unreadable != "skip":
            raise
        ingest.write_unreadable(raw, smk.output.parquet, smk.output.meta, smk.wildcards.round, problem)


run(main, snakemake)  # noqa: F821 (Snakemake injects `snakemake`)
