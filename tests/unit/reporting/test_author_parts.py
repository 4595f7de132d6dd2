"""The authors' parts (kvinnofrid.reporting.authors, report/forfattare/delar.yaml): a part
appears where the report has it once written, is left out with its heading while not,
and the author's instruction never reaches a reader. The slow half renders a copy of
the report with parts filled (built-in backend) and reads the HTML and the PDF."""

from __future__ import annotations

import pytest
import yaml
from support.author_parts import FILLED, filled_copy
from support.report_inputs import REPORT_SRC, book_kwargs, report_inputs

from kvinnofrid.reporting import authors
from kvinnofrid.reporting.book import build_book
from kvinnofrid.spec.diagrams import load_registry

PARTS = authors.load_parts(REPORT_SRC)
HEADINGS = [p.heading for p in PARTS if p.heading]


@pytest.fixture(scope="module")
def inputs():
    return report_inputs()


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


def test_unwritten_parts_leave_no_heading_and_no_instruction(demo_book):
    paths = demo_book.paths
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


def test_the_survey_questions_come_from_the_codebook(demo_book):
    from kvinnofrid.spec import codebook

    paths = demo_book.paths
    results = next(p for p in paths if p.name == "02-resultat.qmd").read_text(encoding="utf-8")
    questions = [v.question for v in codebook.load().variables if v.section == "Brukaruppföljning" and v.question]
    assert len(questions) >= 4
    for q in questions:
        assert f"- {q}" in results, q
    assert results.index(questions[0]) < results.index("#diagram-18")
