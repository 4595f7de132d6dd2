# Rounds and trend: the key shares per submission round (interim vs final) beside the
# previous report's values (config `trend`). Each earlier round is compiled and derived
# as it stood at its date (one job per round, from the cleaned files of the rounds up
# to it); the last round up to the cut-off is the national compilation itself, so its
# shares are the national tables' own.

# ROUNDS and TREND (settings `trend`, checked in kvinnofrid.settings) are in common.smk.


def batches_up_to_round(pattern):
    """The pattern expanded for every batch of the rounds up to {round}."""
    return lambda wildcards: [pattern.format(round=r, part=p) for r, p in BATCHES if r <= wildcards.round]


rule compile_round:
    input:
        cases=batches_up_to_round(INTERIM + "/clean/{round}/batch-{part}.parquet"),
        risk=batches_up_to_round(INTERIM + "/clean/{round}/batch-{part}.risk.parquet"),
        reports=batches_up_to_round(INTERIM + "/quality/{round}/batch-{part}.json"),
        aliases=ALIAS_FILE,
    output:
        derived=f"{INTERIM}/rounds/{{round}}/cases_derived.parquet",
    log:
        f"logs/compile_round/{{round}}.log",
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
    output:
        csv=f"{RESULTS}/trend/trend.csv",
        rounds=f"{RESULTS}/trend/rounds.csv",
    log:
        "logs/trend.log",
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
    output:
        png=f"{RESULTS}/figures/trend.png",
        svg=f"{RESULTS}/figures/trend.svg",
    log:
        "logs/trend_figure.log",
    script:
        "../../scripts/trend_figure.py"
