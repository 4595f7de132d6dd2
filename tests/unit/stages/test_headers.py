"""Finding the header row among a file's first rows (stages/headers.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from support.adversarial_corpus import BASE_HEADER, H_CLIENT, H_OPENED

from kvinnofrid.stages.headers import find_header, header_score

# recognised headers (the key columns among them), text a person typed, and empty cells
CELLS = [*BASE_HEADER, "Lokal: Tolk behövs", "Anna Andersson", "2023-01-05", "", None]


def every_row_scored(rows):
    """find_header's answer by scoring every row: the first of the best (has both key
    columns, number of recognised columns), None when no row recognises anything."""
    best = None
    for i, (_, cells) in enumerate(rows):
        has_keys, score = header_score(cells)
        if score and (best is None or (has_keys, score) > (best[1], best[2])):
            best = (i, has_keys, score)
    return best


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(CELLS), max_size=12), max_size=10))
def test_the_header_is_the_best_row_whichever_rows_are_passed_by(cells_of_rows):
    """Rows that cannot beat a header with both key columns are not scored; the answer
    is the same as scoring every row."""
    rows = [(line, cells) for line, cells in enumerate(cells_of_rows, start=1)]
    assert find_header(rows) == every_row_scored(rows)


def test_a_title_row_naming_the_keys_gives_way_to_the_full_header_below_it():
    title = [H_CLIENT, H_OPENED]
    data = ["Anna Andersson", "2023-01-05", *[""] * (len(BASE_HEADER) - 2)]
    assert find_header([(1, title), (2, list(BASE_HEADER)), (3, data)])[0] == 1
