"""The protection's linear programmes (disclosure/protection.py) when HiGHS answers
nothing: its status ``Unknown`` (its simplex stopped without an answer), seen on a
generated national set of 20 000 cases (290 municipalities, seed 13), stopped rule
`unit_tables`. Such a solve is redone from scratch; only a second undecided answer stops.

The solver is real: a proxy reports ``Unknown`` for the first solves it is asked to."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from kvinnofrid.disclosure import protection as pr

NONE = np.array([], dtype=np.int64)


def _layout() -> pr.Layout:
    """a + b = the country's 12 (published); a = 2 is small, b = 10 is not."""
    return pr.Layout(
        value=np.array([2, 10, 12]),
        hidden=np.array([True, False, False]),
        movable=np.array([True, True, False]),
        owner=np.array([0, 1, pr.NO_OWNER]),
        weight=np.ones(3),
        constraint=sparse.csr_matrix(np.array([[1.0, 1.0, -1.0]])),
        n_eq=1,
        rows=np.zeros((0, 2), dtype=np.int64),
        complements=np.zeros((0, 2), dtype=np.int64),
    )


class _Undecided:
    """The programme's own HiGHS, answering ``Unknown`` for its first ``times`` solves."""

    def __init__(self, highs, unknown, times: int):
        self._highs, self._unknown, self._left = highs, unknown, times
        self.cleared = 0

    def getModelStatus(self):
        if self._left > 0:
            self._left -= 1
            return self._unknown
        return self._highs.getModelStatus()

    def clearSolver(self):
        self.cleared += 1
        return self._highs.clearSolver()

    def __getattr__(self, name):
        return getattr(self._highs, name)


def _programme(times: int) -> tuple[pr._Programme, _Undecided]:
    programme = pr._Programme(_layout(), 5)
    proxy = _Undecided(programme.highs, programme.core.HighsModelStatus.kUnknown, times)
    programme.highs = proxy
    return programme, proxy


def test_an_undecided_solve_is_solved_again_from_scratch_and_gives_the_same_answers():
    plain = pr._Programme(_layout(), 5)
    programme, proxy = _programme(times=1)
    assert programme.reach((0,), +1, NONE) == plain.reach((0,), +1, NONE) == 2.0
    assert proxy.cleared == 1
    assert programme.reach((0,), -1, NONE) == plain.reach((0,), -1, NONE) == 2.0
    assert programme.reach((0,), +1, np.array([1])) == 0.0  # b fixed: a cannot move
    assert list(programme.witness((0,), +1, 1.0, NONE)) == list(plain.witness((0,), +1, 1.0, NONE))


def test_a_solve_undecided_twice_stops_with_the_solvers_status():
    programme, _ = _programme(times=2)
    with pytest.raises(RuntimeError, match=r"lösaren svarade .*kUnknown"):
        programme.reach((0,), +1, NONE)
