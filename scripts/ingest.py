"""Snakemake script of rule `ingest`: one raw export -> raw parquet + JSON metadata."""

from pathlib import Path

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.stages import ingest, pseudonym

    key = pseudonym.pseudonym_key(smk.params.key_env, Path(smk.params.data_raw))
    try:
        ingest.write_ingest(Path(smk.input[0]), smk.output.parquet, smk.output.meta, key, smk.wildcards.round)
    except ingest.IngestError as problem:
        if smk.params.on_unreadable != "skip":
            raise
        ingest.write_unreadable(Path(smk.input[0]), smk.output.parquet, smk.output.meta, smk.wildcards.round, problem)


run(main, snakemake)  # noqa: F821 (Snakemake injects `snakemake`)
