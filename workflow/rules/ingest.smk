# Ingest: one job per raw export. Reads the file, recognises columns by the codebook,
# replaces client and handler identifiers by a keyed hash and reduces comments to
# counts. Nothing after this step sees personal data in clear text.


rule ingest:
    input:
        raw=raw_path,
        demo_marker=DEMO_MARKER_FILE,
    output:
        parquet=f"{INTERIM}/raw/{{round}}/{{file_id}}.parquet",
        meta=f"{INTERIM}/raw/{{round}}/{{file_id}}.json",
    log:
        f"logs/ingest/{{round}}/{{file_id}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        key_env=SETTINGS.pseudonym_key_env,
        on_unreadable=SETTINGS.on_unreadable_file,
    script:
        "../../scripts/ingest.py"
