# Ingest and clean: one job per batch of raw exports (a round's files in
# BATCHES_PER_ROUND parts, kvinnofrid/stages/batches.py). Reads each file and recognises
# its columns by the codebook, replaces client and handler identifiers by a keyed hash,
# reduces comments to counts, parses every value, applies the row rules of the export
# contract and accounts for every row. Ingest and clean run in one process, so that no
# raw text is written: nothing after this step sees personal data or rejected values
# in clear text. One process per batch, not per file: at national scale (553 files)
# starting a process per file cost ~80 times the reading. An unchanged file of a batch
# that reruns is taken from the cache (interim/cache/clean), not cleaned again.


rule clean:
    input:
        raw=batch_raw_paths,
        demo_marker=DEMO_MARKER_FILE,
        register=REGISTER_FILE,
        aliases=ALIAS_FILE,
        code=code_of("clean"),
    output:
        cases=f"{INTERIM}/clean/{{round}}/batch-{{part}}.parquet",
        risk=f"{INTERIM}/clean/{{round}}/batch-{{part}}.risk.parquet",
        rejected=f"{INTERIM}/clean/{{round}}/batch-{{part}}.rejected.parquet",
        issues=f"{INTERIM}/quality/{{round}}/batch-{{part}}.issues.parquet",
        reports=f"{INTERIM}/quality/{{round}}/batch-{{part}}.json",
    log:
        f"logs/clean/{{round}}/batch-{{part}}.log",
    benchmark:
        "logs/benchmarks/clean/{round}/batch-{part}.tsv"
    conda:
        SOFTWARE_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        file_ids=lambda wildcards: [f.file_id for f in BATCHES[(wildcards.round, wildcards.part)]],
        cache=lambda wildcards: f"{INTERIM}/cache/clean/{wildcards.round}/batch-{wildcards.part}",
        key_env=SETTINGS.pseudonym_key_env,
        on_unreadable=SETTINGS.on_unreadable_file,
        period_start=SETTINGS.period_start,
        period_end=SETTINGS.period_end,
        # the unit texts the run knows: a person's name in Kommun/stadsdel is no unit
        register=str(SETTINGS.municipality_register or ""),
        districts=SETTINGS.districts,
        aliases=str(SETTINGS.unit_aliases or ""),
    script:
        "../../scripts/clean.py"
