# Clean: one job per raw export (= one unit in one round). Parses every value by the
# codebook, applies the row rules of the export contract and accounts for every row.


rule clean:
    input:
        parquet=f"{INTERIM}/raw/{{round}}/{{file_id}}.parquet",
        meta=f"{INTERIM}/raw/{{round}}/{{file_id}}.json",
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
        period_start=SETTINGS.period_start,
        period_end=SETTINGS.period_end,
    script:
        "../../scripts/clean.py"
