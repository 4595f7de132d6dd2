"""Snakemake script of rule `render_report`: the book to rapport.html and rapport.pdf."""

import shutil
from pathlib import Path

from kvinnofrid.scriptrunner import run


def main(smk) -> None:
    from kvinnofrid.reporting import render

    out_dir = Path(smk.output.html).parent
    written = render.render_book(Path(smk.input[0]), out_dir)
    for wanted in (smk.output.html, smk.output.pdf):
        if Path(wanted) not in [Path(p) for p in written] and not Path(wanted).is_file():
            raise render.RenderError(f"renderingen skrev inte {wanted}")


run(main, snakemake)  # noqa: F821
