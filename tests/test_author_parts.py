"""The authors' parts (kvinnofrid.reporting.authors, report/forfattare/delar.yaml): a part
appears where the report has it once written, is left out with its heading while not,
and the author's instruction never reaches a reader. The slow half renders a copy of
the report with parts filled (built-in backend) and reads the HTML and the PDF."""

from __future__ import annotations

import re
import shutil

import pypdf
import pytest
import yaml
from conftest_report import REPORT_SRC, book_kwargs, report_inputs, write_figures

from kvinnofrid.reporting import authors
from kvinnofrid.reporting.book import build_book
from kvinnofrid.reporting.render import render_book
from kvinnofrid.spec.diagrams import load_registry

PARTS = authors.load_parts(REPORT_SRC)
HEADINGS = [p.heading for p in PARTS if p.heading]
FILLED = {
    "lardomar-kommuner": "- Ledningen har avsatt tid för registreringen.\n- Någon äger rutinen för datakvalitet.",
    "valdets-grad-ruta": "Grovt våld innebär här att våldet har orsakat allvarlig skada (fyllt i test).",
    "klienternas-svar-fritext": "Klienterna lyfte oftast bemötandet och kontinuiteten (fyllt i test).",
    "sammanfattning-lardomar": "- Uppföljningen kräver tid och ledningens stöd (fyllt i test).",
}


@pytest.fixture(scope="module")
def inputs():
    return report_inputs()


def filled_copy(tmp_path, parts: dict[str, str]):
    """The report folder copied, with ``parts`` written under each file's instruction."""
    src = tmp_path / "report"
    shutil.copytree(REPORT_SRC, src)
    for part_id, text in parts.items():
        path = src / "forfattare" / f"{part_id}.md"
        path.write_text(path.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")
    return src


def chapters_text(paths) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in paths if p.suffix == ".qmd")


def test_every_part_has_an_instruction_and_every_file_is_declared():
    raw = yaml.safe_load((REPORT_SRC / "forfattare" / authors.PARTS_FILE).read_text(encoding="utf-8"))
    assert [p["id"] for p in raw] == [p.id for p in PARTS]
    authors.check_parts(REPORT_SRC, PARTS, load_registry().text_ids)
    for p in PARTS:
        text = (REPORT_SRC / "forfattare" / f"{p.id}.md").read_text(encoding="utf-8")
        if not p.placeholder:  # a new part: nothing but the instruction, so left out
            assert text.lstrip().startswith("<!--") and authors.written_text(REPORT_SRC, p) == "", p.id
    templates = "\n".join(t.read_text(encoding="utf-8") for t in REPORT_SRC.glob("*.qmd.j2"))
    for p in PARTS:  # every part is put somewhere: by a template, or after a registry id
        assert p.after or f"'{p.id}'" in templates, p.id


def test_unwritten_parts_leave_no_heading_and_no_instruction(inputs, tmp_path):
    paths = build_book(tmp_path / "book", **book_kwargs(inputs))
    text = chapters_text(paths)
    for heading in HEADINGS:
        assert heading not in text.replace("| " + heading + " |", ""), heading  # only Bilaga 3's list names it
    assert "<!--" not in text and "Författarinstruktion" not in text
    assert "03-lardomar.qmd" not in [p.name for p in paths]  # chapter 3 holds nothing yet
    assert ".faktaruta" not in text
    method = next(p for p in paths if p.name == "bilaga-3-metod.qmd").read_text(encoding="utf-8")
    assert "| Kapitel 3, checklista | Vad behöver kommuner för att lyckas med ISU? | Nej |" in method


def test_a_written_part_appears_at_its_place_with_its_heading(inputs, tmp_path):
    src = filled_copy(tmp_path, FILLED)
    paths = build_book(tmp_path / "book", **book_kwargs(inputs, report_src=src))
    names = [p.name for p in paths]
    assert names.index("03-lardomar.qmd") == names.index("02-resultat.qmd") + 1
    lessons = next(p for p in paths if p.name == "03-lardomar.qmd").read_text(encoding="utf-8")
    assert "## Vad behöver kommuner för att lyckas med ISU? {#sec-lardomar-kommuner}" in lessons
    assert FILLED["lardomar-kommuner"] in lessons
    assert "Hur kan nationella aktörer" not in lessons  # still unwritten: no empty heading
    results = next(p for p in paths if p.name == "02-resultat.qmd").read_text(encoding="utf-8")
    box = results.index("::: {.faktaruta #ruta-valdets-grad-ruta}")
    assert results.index("#diagram-07") < box < results.index("#diagram-08")
    assert results.index("### Vad klienterna skrev med egna ord") > results.index("#diagram-20")
    summary = next(p for p in paths if p.name == "00-sammanfattning.qmd").read_text(encoding="utf-8")
    assert summary.rstrip().endswith(FILLED["sammanfattning-lardomar"])
    method = next(p for p in paths if p.name == "bilaga-3-metod.qmd").read_text(encoding="utf-8")
    assert "| Kapitel 3, checklista | Vad behöver kommuner för att lyckas med ISU? | Ja |" in method
    assert "Författarinstruktion" not in chapters_text(paths)


def test_the_folder_and_the_declaration_must_agree(inputs, tmp_path):
    src = filled_copy(tmp_path, {})
    (src / "forfattare" / "extra.md").write_text("Ett eget avsnitt.\n", encoding="utf-8")
    with pytest.raises(authors.AuthorsError, match=r"extra\.md finns inte i .*delar\.yaml"):
        build_book(tmp_path / "book", **book_kwargs(inputs, report_src=src))
    (src / "forfattare" / "extra.md").unlink()
    (src / "forfattare" / "kommunexempel.md").unlink()
    with pytest.raises(authors.AuthorsError, match=r"kommunexempel.*saknas"):
        build_book(tmp_path / "book2", **book_kwargs(inputs, report_src=src))


def test_the_survey_questions_come_from_the_codebook(inputs, tmp_path):
    from kvinnofrid.spec import codebook

    paths = build_book(tmp_path / "book", **book_kwargs(inputs))
    results = next(p for p in paths if p.name == "02-resultat.qmd").read_text(encoding="utf-8")
    questions = [v.question for v in codebook.load().variables if v.section == "Brukaruppföljning" and v.question]
    assert len(questions) >= 4
    for q in questions:
        assert f"- {q}" in results, q
    assert results.index(questions[0]) < results.index("#diagram-18")


@pytest.mark.e2e
def test_written_parts_in_the_html_and_the_pdf_at_their_place(inputs, tmp_path):
    src = filled_copy(tmp_path, FILLED)
    figures_dir = write_figures(inputs, tmp_path / "figures")
    build_book(tmp_path / "build", **book_kwargs(inputs, report_src=src, figures_dir=figures_dir))
    html, pdf = render_book(tmp_path / "build", tmp_path / "out", backend="builtin")
    page = html.read_text(encoding="utf-8")
    assert "Författarinstruktion" not in page and "<!--" not in page.split("<body", 1)[1].replace("<!-- -->", "")
    checklist = page.index('id="sec-lardomar-kommuner"')
    assert page.index('id="sec-resultat"') < page.index('id="sec-lardomar"') < checklist
    assert checklist < page.index("Ledningen har avsatt tid") < page.index('id="sec-bilaga-deltagare"')
    assert page.index('id="diagram-07"') < page.index("Så bedöms våldets grad") < page.index('id="diagram-08"')
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Författarinstruktion" not in text and "Skriv din text under" not in text
    assert "Vad behöver kommuner för att lyckas med ISU?" in text
    assert text.index("Diagram 7:") < text.index("Så bedöms våldets grad") < text.index("Diagram 8:")
    assert text.index("Vad behöver kommuner för att lyckas med ISU?") < text.index("Bilaga 1. Deltagande")
    assert "Hur kan nationella aktörer stödja kommuner?" not in text.split("Bilaga 3")[0]
