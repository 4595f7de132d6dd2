"""Snakemake script of rule `compile_round`: the derived case table as it stood at one
submission round (cut-off = the round, period ending at the round at the latest)."""

import datetime as dt

import polars as pl

from kvinnofrid.scriptrunner import log, run


def main(smk) -> None:
    from kvinnofrid.spec import municipalities
    from kvinnofrid.stages import batches, derive
    from kvinnofrid.stages import compile as compiling

    cleaned = batches.read_batches(smk.input.reports, cases=smk.input.cases, risk=smk.input.risk)
    # Files skipped as unreadable (on_unreadable_file: skip) have no unit and no rows.
    cleaned = [(meta, result) for meta, result in cleaned if not meta.get("unreadable")]
    round_date = dt.date.fromisoformat(smk.wildcards.round)
    cases, risk, left_out = compiling.compile_at_round(
        cleaned,
        round_date,
        (smk.params.period_start, smk.params.period_end),
        names=pl.read_csv(smk.input.units, schema_overrides={"file": pl.String, "unit": pl.String}),
        register_names=municipalities.load_register(smk.params.register or None)["kommun"].to_list(),
        districts=dict(smk.params.districts),
        aliases=municipalities.load_aliases(smk.params.aliases or None),
    )
    if left_out:
        log.warning(
            "Omgången %s: %d ärenden har ett datum för aktualisering efter inskickningsdatumet "
            "och räknas inte med i jämförelsen mellan omgångarna.",
            round_date,
            left_out,
        )
    log.info("Omgången %s: %d ärenden från %d verksamheter.", round_date, cases.height, cases["unit"].n_unique())
    derive.derive_cases(cases, risk).write_parquet(smk.output.derived)


run(main, snakemake)
