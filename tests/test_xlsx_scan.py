"""The raw-XML scans of a worksheet (stages/xlsx.py) that are searched from a literal
for speed find exactly what the plain tag regexes find, on random sheets with namespace
prefixes, error types in longer attribute names and text that reads like a row tag."""

from __future__ import annotations

import random
import re

from kvinnofrid.stages import xlsx


def _rows_by_tag_regex(xml: bytes) -> list[int]:
    return [int(r) for r in re.findall(rb'<(?:\w+:)?row\b[^>]*? r="(\d+)"', xml)]


def _error_starts_by_boundary_regex(xml: bytes) -> list[int]:
    return [m.start() for m in re.finditer(rb'\bt="e"', xml)]


def _random_sheet(rnd: random.Random) -> bytes:
    attributes = ["", 't="e"', 'xt="e"', '_t="e"', '-t="e"', 't="s"']
    rows = []
    for _ in range(rnd.randint(0, 6)):
        cells = "".join(
            f'<{rnd.choice(["", "x:"])}c r="{rnd.choice(["", "$"])}{rnd.choice(["A", "B", "AZ", "XFD"])}'
            f'{rnd.choice(["", "$"])}{rnd.randint(1, 99)}" {rnd.choice(attributes)}><v>#N/A</v></c>'
            for _ in range(rnd.randint(0, 4))
        )
        text = rnd.choice(["", '<c r="C1" t="inlineStr"><is><t>row r="9999999"</t></is></c>'])
        rows.append(f'<{rnd.choice(["", "x:", "ns1:"])}row r="{rnd.randint(1, 2_000_000)}">{cells}{text}</row>')
    return ("<sheetData>" + "".join(rows) + "</sheetData>").encode()


def test_row_numbers_and_error_cells_are_those_the_tag_regexes_find():
    rnd = random.Random(23)
    for _ in range(2000):
        xml = _random_sheet(rnd)
        assert xlsx._row_numbers(xml) == _rows_by_tag_regex(xml)
        errors = xlsx._error_cells_xml(xml)
        assert errors.count("<row ") == sum(
            1
            for start in _error_starts_by_boundary_regex(xml)
            if re.search(rb' r="\$?[A-Z]{1,3}\$?\d+"', xml[xml.rfind(b"<", 0, start) : start])
        )
