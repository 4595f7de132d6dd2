"""Snakemake script of rule `kolada`: derived cases + SCB population -> nyckeltal.csv."""

import polars as pl

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    import logging

    from kvinnofrid.disclosure import kolada
    from kvinnofrid.errors import UserFacingError
    from kvinnofrid.spec import municipalities

    log = logging.getLogger("kvinnofrid")
    derived = pl.read_parquet(smk.input.derived)
    units = pl.read_csv(smk.input.units).select("unit", "municipality").unique()
    register = municipalities.load_register(smk.input.register[0] if smk.input.register else None)
    per_unit = municipalities.unit_municipalities(units, register, smk.params.districts)
    try:
        population = kolada.read_population(smk.input.population)
    except ValueError as problem:  # names the file and the missing column; no case data in it
        raise UserFacingError(
            f"kolada.population: {problem}. Se användarguiden, docs/anvandarguide.md, Kolada-nyckeltal."
        ) from None
    settings = kolada.settings_of(smk.params.kolada)
    for kf in settings["key_figures"]:
        log.info("Nyckeltal %s (%s): %s", kf["id"], kf["measure"], kf["label"])
    figures = kolada.key_figures(derived, population, per_unit, config=settings)
    protected = kolada.suppress_key_figures(figures, smk.params.threshold)
    kolada.write_key_figures(protected, smk.output[0])
    hidden = int(protected["count"].is_null().sum())
    log.info(
        "%d rader (%d verksamheter, år %s); %d antal dolda (färre än %d ärenden, eller dolda för att "
        "de annars kunde räknas fram)",
        protected.height,
        protected["unit"].n_unique(),
        ", ".join(map(str, sorted(protected["period"].unique()))),
        hidden,
        smk.params.threshold,
    )


run(main, snakemake)
