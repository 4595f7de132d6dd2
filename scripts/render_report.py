"""Snakemake script of rule `render_report`: the book to rapport.pdf and the site html/."""

from pathlib import Path

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.reporting import render

    out_dir = Path(smk.output.pdf).parent
    html, pdf = render.render_book(Path(smk.input[0]), out_dir)
    if html.parent != Path(smk.output.html).resolve() or pdf != Path(smk.output.pdf).resolve():
        raise render.RenderError(
            "snakemake", "jämföra utdata", f"renderingen skrev {html} och {pdf}, regeln väntar sig {smk.output.html}"
        )
    for written in (html, pdf, Path(smk.output.provenance).resolve()):
        if not written.is_file():
            raise render.RenderError("snakemake", "jämföra utdata", f"renderingen skrev inte {written}")


run(main, snakemake)
