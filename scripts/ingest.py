"""Snakemake script of rule `ingest`: one raw export -> raw parquet + JSON metadata."""

from pathlib import Path

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.stages import ingest, pseudonym

    # The raw file is data_raw/<round>/<file>; the demo marker in data_raw, which allows
    # the demo key, is a declared input (input.demo_marker) when present.
    raw = Path(smk.input.raw)
    key = pseudonym.pseudonym_key(smk.params.key_env, raw.parents[1])
    try:
        ingest.write_ingest(raw, smk.output.parquet, smk.output.meta, key, smk.wildcards.round)
    except ingest.IngestError as problem:
        if smk.params.on_unreadable != "skip":
            raise
        ingest.write_unreadable(raw, smk.output.parquet, smk.output.meta, smk.wildcards.round, problem)


run(main, snakemake)  # noqa: F821 (Snakemake injects `snakemake`)
