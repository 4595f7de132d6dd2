# The tables as accessible workbooks (kvinnofrid.reporting.workbook): every national
# table in results/tabeller.xlsx (default target), and each unit's and län's published,
# protected tables in results/kommuner/<slug>.xlsx (target `kommuner_tabeller`, which
# reads the areas that checkpoint unit_tables names). DIAGRAMS, UNIT_DIAGRAMS and
# DEMO_MARKER_FILE are in common.smk.


rule workbook:
    input:
        tables=expand(f"{RESULTS}/tables/diagram_{{nn}}.parquet", nn=DIAGRAMS),
        demo_marker=DEMO_MARKER_FILE,
    output:
        f"{RESULTS}/tabeller.xlsx",
    log:
        "logs/workbook.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        period=(SETTINGS.period_start.isoformat(), SETTINGS.period_end.isoformat()),
        cutoff=SETTINGS.cutoff.isoformat(),
    script:
        "../../scripts/workbook.py"


rule unit_workbook:
    input:
        tables=f"{INTERIM}/kommuner/tables.parquet",
        areas=f"{INTERIM}/kommuner/areas.json",
        demo_marker=DEMO_MARKER_FILE,
    output:
        f"{RESULTS}/kommuner/{{slug}}.xlsx",
    wildcard_constraints:
        slug=r"[a-z0-9-]+",
    log:
        "logs/unit_workbook/{slug}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        diagrams=UNIT_DIAGRAMS,
        period=(SETTINGS.period_start.isoformat(), SETTINGS.period_end.isoformat()),
        cutoff=SETTINGS.cutoff.isoformat(),
        threshold=SETTINGS.suppression_threshold,
    script:
        "../../scripts/workbook.py"


def area_workbooks(wildcards):
    """Every unit's and every län's workbook, once unit_tables has named the areas."""
    import json

    areas = json.loads(Path(checkpoints.unit_tables.get().output.areas).read_text(encoding="utf-8"))
    return [f"{RESULTS}/kommuner/{a['slug']}.xlsx" for a in areas if a["kind"] in ("enhet", "lan")]


rule kommuner_tabeller:
    input:
        area_workbooks,
