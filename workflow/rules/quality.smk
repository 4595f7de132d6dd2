# Data quality: results/quality/summary.csv (one row per round and unit) and one
# Swedish feedback page per unit, results/quality/<unit-slug>.html. The units are
# known only from the files' content, so the folder is the rule's output. One job:
# the pages are cheap, starting Python is not.


rule quality:
    input:
        reports=each_batch(f"{INTERIM}/quality/{{round}}/batch-{{part}}.json"),
        issues=each_batch(f"{INTERIM}/quality/{{round}}/batch-{{part}}.issues.parquet"),
        units=f"{INTERIM}/units.csv",
        warnings=f"{INTERIM}/quality/compile_warnings.parquet",
        code=code_of("quality"),
    output:
        folder=directory(f"{RESULTS}/quality"),
    log:
        "logs/quality.log",
    benchmark:
        "logs/benchmarks/quality.tsv"
    conda:
        SOFTWARE_ENV
    params:
        # files in the round folders that are not exports: listed, never read
        not_exports=[{"round": s.round, "file": s.file, "reason": s.reason} for s in NOT_EXPORTS],
    script:
        "../../scripts/quality.py"
