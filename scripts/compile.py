"""Snakemake script of rule `compile`: latest round per unit -> one row per case."""

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.spec import municipalities
    from kvinnofrid.stages import batches
    from kvinnofrid.stages import compile as compiling

    cleaned = batches.read_batches(smk.input.reports, cases=smk.input.cases, risk=smk.input.risk)
    # Files skipped as unreadable (on_unreadable_file: skip) have no unit and no rows.
    cleaned = [(meta, result) for meta, result in cleaned if not meta.get("unreadable")]
    units = {
        "register_names": municipalities.load_register(smk.params.register or None)["kommun"].to_list(),
        "districts": dict(smk.params.districts),
        "aliases": municipalities.load_aliases(smk.params.aliases or None),
    }
    cases, risk, warnings = compiling.compile_cases(
        cleaned, smk.params.cutoff, period=(smk.params.period_start, smk.params.period_end), **units
    )
    cases.write_parquet(smk.output.cases)
    risk.write_parquet(smk.output.risk)
    warnings.write_parquet(smk.output.warnings)
    compiling.assign_units(cleaned, **units).write_csv(smk.output.units)


run(main, snakemake)
