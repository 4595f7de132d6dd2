# Ingest and clean: one job per raw export. Reads the file and recognises its columns
# by the codebook, replaces client and handler identifiers by a keyed hash, reduces
# comments to counts, parses every value, applies the row rules of the export contract
# and accounts for every row. One process per file, so that no raw text is written:
# nothing after this step sees personal data or rejected values in clear text.


rule clean:
    input:
        raw=raw_path,
        demo_marker=DEMO_MARKER_FILE,
    output:
        cases=f"{INTERIM}/clean/{{round}}/{{file_id}}.parquet",
        risk=f"{INTERIM}/clean/{{round}}/{{file_id}}.risk.parquet",
        rejected=f"{INTERIM}/clean/{{round}}/{{file_id}}.rejected.parquet",
        issues=f"{INTERIM}/quality/{{round}}/{{file_id}}.issues.parquet",
        report=f"{INTERIM}/quality/{{round}}/{{file_id}}.json",
    log:
        f"logs/clean/{{round}}/{{file_id}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        key_env=SETTINGS.pseudonym_key_env,
        on_unreadable=SETTINGS.on_unreadable_file,
        period_start=SETTINGS.period_start,
        period_end=SETTINGS.period_end,
    script:
        "../../scripts/clean.py"
