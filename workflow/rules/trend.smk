# Rounds and trend: the key shares per submission round (interim vs final) beside the
# previous report's values (config `trend`). Each earlier round is compiled and derived
# as it stood at its date (one job per round, from the cleaned files of the rounds up
# to it); the last round up to the cut-off is the national compilation itself, so its
# shares are the national tables' own.

# ROUNDS and TREND (settings `trend`, checked in kvinnofrid.settings) are in common.smk.


rule compile_round:
    input:
        cases=batches_up_to_round(f"{INTERIM}/clean/{{round}}/batch-{{part}}.parquet"),
        risk=batches_up_to_round(f"{INTERIM}/clean/{{round}}/batch-{{part}}.risk.parquet"),
        reports=batches_up_to_round(f"{INTERIM}/quality/{{round}}/batch-{{part}}.json"),
        aliases=ALIAS_FILE,
        units=f"{INTERIM}/units.csv",
        code=code_of("compile_round"),
    output:
        derived=f"{INTERIM}/rounds/{{round}}/cases_derived.parquet",
    log:
        f"logs/compile_round/{{round}}.log",
    benchmark:
        "logs/benchmarks/compile_round/{round}.tsv"
    conda:
        SOFTWARE_ENV
    params:
        period_start=SETTINGS.period_start,
        period_end=SETTINGS.period_end,
        register=str(SETTINGS.municipality_register or ""),
        districts=SETTINGS.districts,
        aliases=str(SETTINGS.unit_aliases or ""),
    script:
        "../../scripts/compile_round.py"


rule trend:
    input:
        earlier=expand(f"{INTERIM}/rounds/{{round}}/cases_derived.parquet", round=ROUNDS[:-1]),
        final=f"{INTERIM}/cases_derived.parquet",
        tables=rules.tables.output.parquet,
        code=code_of("trend"),
    output:
        csv=f"{RESULTS}/trend/trend.csv",
        rounds=f"{RESULTS}/trend/rounds.csv",
    log:
        "logs/trend.log",
    benchmark:
        "logs/benchmarks/trend.tsv"
    conda:
        SOFTWARE_ENV
    params:
        rounds=ROUNDS,
        trend=TREND,
        honour_interventions_min=SETTINGS.honour_interventions_min,
    script:
        "../../scripts/trend.py"


rule trend_figure:
    input:
        csv=rules.trend.output.csv,
        rounds=rules.trend.output.rounds,
        code=code_of("trend_figure"),
    output:
        png=f"{RESULTS}/figures/trend.png",
        svg=f"{RESULTS}/figures/trend.svg",
    log:
        "logs/trend_figure.log",
    benchmark:
        "logs/benchmarks/trend_figure.tsv"
    conda:
        SOFTWARE_ENV
    script:
        "../../scripts/trend_figure.py"
