"""Secondary suppression by capacity: which further cells to hide so that no attacker
can work a hidden count out, each requirement certified by a *witness*.

Used by kvinnofrid.disclosure.suppression (its ``_Problem``: every published count of
one table, all areas and rounds, as cells with relations). docs/architecture.md.

The attacker's view
-------------------
The attacker sees every published cell, the relations between them (an area that
pools units is their sum, N = Σ categories, n ≤ N, Σ n ≥ N for multi-choice rows) and
the mark of every hidden cell: ``<T`` says the count is 0 … T − 1, ``dold`` that it is
at least T (every count below T is hidden as such, zeros too, so a cell hidden to
protect another is at least T). A unit also knows all its own cells. Whatever the
attacker can conclude about a hidden count, it concludes from the set of *possible
truths*: tables x ≥ 0 that agree with all of that. Write x = truth + y; y moves only
hidden cells, keeps every relation (published totals fixed) and every mark.

Requirement (the threshold T, default 5)
----------------------------------------
* every hidden count of 1 … T − 1 of an area (cell or base N) must, for the outsider
  and for every unit other than its owner, take both 0 and T − 1 among the possible
  truths: the attacker's interval is the whole interval of the mark, no narrower
  (a witness y with y = T − 1 − v at the cell, one with y = −v, neither moving the
  attacker's own cells);
* no two units pooling their numbers pin it to one value (a witness with y ≠ 0 that
  moves neither unit's cells);
* every other hidden cell (zeros, cells hidden to protect another, the N − n of a
  multi-choice row hidden because it is small) is not pinned to one value by an
  outsider; an N − n of 1 … T − 1 neither by a single unit nor by two;
* where the published national numbers leave less room even with every other cell
  hidden (the country has 3 cases of a category: no unit's count can be above 3),
  the requirement is what is left (``limited``).

How the cells are chosen
------------------------
For each requirement one linear programme (HiGHS through scipy, kept between
programmes: each starts from the previous basis): find the cheapest y that moves the
count as required, where moving a hidden cell costs almost nothing and moving a
published cell costs its weight (it must then be hidden). A cell's *capacity* is how
far y may move it while its mark stays true: a hidden small count v between −v and
T − 1 − v, a cell hidden (or to be hidden) to protect another down to T and up without
limit, a national cell not at all, the attacker's own cells not at all. The cells y
moves are hidden; y is kept as the witness of every requirement it meets (a count it
moves far enough, in the right direction, for every attacker whose cells it leaves
alone). Hiding more never removes a possible truth, so a requirement once met stays
met, and the witnesses found for one count often meet another's requirement: most
counts need no programme of their own. Only attackers whose cells every witness of a
count moves need one (a unit that can narrow a count is one whose own cells are
linked to it through hidden cells).

A witness is looked for first among the owner's *neighbours* (the units it shares a
published sum with: its län, size class, group, ``_neighbourhoods``), in a programme of
those cells only (at national scale about a third of the problem), and in the whole
problem only where that finds none. Where even hiding everything leaves a count no room
because of the marks (a neighbour's ``<T`` and a ``dold`` bound it from both sides),
the cells a witness ignoring the marks moves are hidden, so that the count cannot be
worked out by the arithmetic alone.

Pure and deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

NO_OWNER = -1
TOL = 1e-6
FREE = 1e-3  # the cost of moving a cell that is hidden already
UNLIMITED = 1e9


@dataclass
class Layout:
    """What the search needs of the problem (suppression._Problem's arrays)."""

    value: np.ndarray  # truth of every cell
    hidden: np.ndarray  # bool, changed in place as cells are hidden
    movable: np.ndarray  # bool: may be hidden (not national, not published elsewhere)
    owner: np.ndarray  # the unit that knows the cell, NO_OWNER for a sum
    weight: np.ndarray  # the cost of hiding a published cell
    constraint: sparse.csr_matrix  # rows: relations (= 0), then inequalities (≤ 0)
    n_eq: int
    rows: np.ndarray  # (N, n) of every row: a hidden N hides its n
    complements: np.ndarray  # (N, n) rows whose N − n is a small count hidden with n


@dataclass
class Report:
    """What the search did: programmes solved, requirements left at what the national
    numbers allow (``limited``: (cell, attacker, sign, required, reached))."""

    programmes: int = 0
    limited: list[tuple[int, tuple[int, ...], int, float, float]] = field(default_factory=list)
    pinned: list[int] = field(default_factory=list)  # small counts the exempt numbers alone give away


class _Witnesses:
    """Every witness found: per cell {witness: how far it moves the cell}, per witness
    the units whose cells it moves."""

    def __init__(self, owner: np.ndarray):
        self.owner = owner
        self.moves: dict[int, dict[int, float]] = {}
        self.units: list[frozenset[int]] = []

    def add(self, y: np.ndarray) -> None:
        moved = np.flatnonzero(np.abs(y) > TOL)
        owners = self.owner[moved]
        k = len(self.units)
        self.units.append(frozenset(owners[owners != NO_OWNER].tolist()))
        for c, d in zip(moved.tolist(), y[moved].tolist(), strict=True):
            self.moves.setdefault(c, {})[k] = d

    def shifts(self, target: tuple[int, ...]) -> dict[int, float]:
        """witness → how far it moves ``target`` (a cell, or (N, n): N − n)."""
        if len(target) == 1:
            return self.moves.get(target[0], {})
        big, small = self.moves.get(target[0], {}), self.moves.get(target[1], {})
        return {k: big.get(k, 0.0) - small.get(k, 0.0) for k in big.keys() | small.keys()}

    def unmet(self, target: tuple[int, ...], sign: int, delta: float, owner: int) -> frozenset[int] | None:
        """The units no witness serves for moving ``target`` by ``delta`` in direction
        ``sign`` (None: none serves even the outsider). A witness serves every unit
        whose cells it leaves alone; the target's owner is no attacker of its own."""
        left = None
        for k, d in self.shifts(target).items():
            if sign * d >= delta - TOL:
                units = self.units[k] - {owner}
                left = units if left is None else left & units
                if not left:
                    return left
        return left

    def hitting_pair(self, target: tuple[int, ...], owner: int) -> tuple[int, int] | None:
        """Two units whose cells every witness moving ``target`` at all moves (pooling
        their numbers they would pin it), or None."""
        sets = [self.units[k] - {owner} for k, d in self.shifts(target).items() if abs(d) >= 1 - TOL]
        if not sets or any(not s for s in sets):
            return None if sets else (NO_OWNER, NO_OWNER)
        first = min(sets, key=len)
        for a in sorted(first):
            rest = [s for s in sets if a not in s]
            common = frozenset.intersection(*rest) if rest else frozenset(u for s in sets for u in s) - {a}
            if common:
                return a, min(common)
        return None


class _Programme:
    """min Σ cost·(p + m) over y = p − m, subject to the relations and inequalities in
    y (published and national cells' y fixed at 0 by their bounds), each cell within its
    capacity, and one target: a cell's y (by its bounds) or N − n (one extra row).

    ``cols``: the cells the programme may move (a unit's neighbourhood, ``_neighbourhoods``),
    every other cell's y is 0; every method takes and gives the whole problem's cells."""

    def __init__(self, lay: Layout, threshold: int, cols: np.ndarray | None = None):
        from scipy.optimize._highspy import _core

        self.core, self.lay = _core, lay
        self.cols = np.arange(len(lay.value)) if cols is None else np.asarray(cols, dtype=np.int64)
        self.local = np.full(len(lay.value), -1, dtype=np.int64)
        self.local[self.cols] = np.arange(len(self.cols))
        n = len(self.cols)
        self.n = n
        value = lay.value[self.cols]
        small = value < threshold
        self.up = np.where(small, threshold - 1 - value, UNLIMITED).astype(float)
        self.down = np.where(small, value, value - threshold).astype(float).clip(0)
        fixed = ~lay.movable[self.cols]
        self.up[fixed], self.down[fixed] = 0.0, 0.0
        slack = -(lay.constraint @ lay.value.astype(float))  # C·(v + y) ≤ 0 → C·y ≤ −C·v
        c = lay.constraint[:, self.cols].tocsr()
        keep = np.flatnonzero(np.diff(c.indptr) > 0)  # rows with a cell of ours (the rest: y = 0 keeps them)
        c, slack, eq = c[keep], slack[keep], keep < lay.n_eq
        target_row = sparse.csr_matrix((1, n))
        a = sparse.vstack([sparse.hstack([c, -c]), sparse.hstack([target_row, target_row])]).tocsc()
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = 2 * n, a.shape[0]
        lp.col_cost_ = np.r_[self.costs(), self.costs()]
        lp.col_lower_ = np.zeros(2 * n)
        lp.col_upper_ = np.r_[self.up, self.down]
        lp.row_lower_ = np.r_[np.where(eq, 0.0, -np.inf), -np.inf]
        lp.row_upper_ = np.r_[np.where(eq, 0.0, slack), np.inf]
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = 2 * n, a.shape[0]
        self.highs = _core._Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self.target_row = a.shape[0] - 1
        self.solved = 0
        status = _core.HighsModelStatus
        self._decided = (status.kOptimal, status.kUnbounded, status.kInfeasible, status.kUnboundedOrInfeasible)

    def covers(self, cells: Sequence[int]) -> bool:
        return bool((self.local[np.asarray(cells, dtype=np.int64)] >= 0).all())

    def _mine(self, cells: np.ndarray) -> np.ndarray:
        """The local indices of those of ``cells`` the programme has."""
        local = self.local[np.asarray(cells, dtype=np.int64)]
        return local[local >= 0]

    def _whole(self, y: np.ndarray | None) -> np.ndarray | None:
        if y is None:
            return None
        out = np.zeros(len(self.lay.value)) if not np.isnan(y).any() else np.full(len(self.lay.value), np.nan)
        out[self.cols] = y
        return out

    def costs(self) -> np.ndarray:
        lay = self.lay
        return np.where(lay.hidden[self.cols], FREE, lay.weight[self.cols])

    def hidden_now(self, cells: np.ndarray) -> None:
        """Cells just hidden cost almost nothing to move from now on."""
        cells = self._mine(cells)
        if not cells.size:
            return
        cost = np.full(len(cells), FREE)
        cols = np.concatenate((cells, cells + self.n)).astype(np.int32)
        self.highs.changeColsCost(len(cols), cols, np.concatenate((cost, cost)))

    def _bounds(self, cells: np.ndarray, up: np.ndarray, down: np.ndarray) -> None:
        # np.concatenate, not np.r_: these run some 10⁵ times per national run
        cols = np.concatenate((cells, cells + self.n)).astype(np.int32)
        self.highs.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.concatenate((up, down)).astype(float))

    def witness(self, target: tuple[int, ...], sign: int, delta: float, fixed: np.ndarray) -> np.ndarray | None:
        """The cheapest y moving ``target`` by sign·delta and no cell of ``fixed``; None
        when no y can (all NaN when the programme has no such y)."""
        target, fixed = tuple(int(t) for t in self._mine(np.asarray(target))), self._mine(fixed)
        self._set(target, fixed, sign * delta, sign * delta)
        y = self._run()
        self._reset(target, fixed)
        return self._whole(y)

    def witness_without_marks(self, target: tuple[int, ...], sign: int, fixed: np.ndarray) -> np.ndarray:
        """A witness moving ``target`` by one where a cell hidden to protect another may
        go below the threshold (what an attacker who ignores the marks allows)."""
        down = np.where(self.lay.movable[self.cols], self.lay.value[self.cols], 0).astype(float)
        cols = np.arange(self.n, dtype=np.int32) + self.n
        self.highs.changeColsBounds(self.n, cols, np.zeros(self.n), down)
        saved, self.down = self.down, down
        try:
            return self.witness(target, sign, 1.0, fixed)
        finally:
            self.down = saved
            self.highs.changeColsBounds(self.n, cols, np.zeros(self.n), saved)

    def reach(self, target: tuple[int, ...], sign: int, fixed: np.ndarray) -> float:
        """How far ``target`` can move in direction ``sign`` at most (hiding anything)."""
        target, fixed = tuple(int(t) for t in self._mine(np.asarray(target))), self._mine(fixed)
        self._set(target, fixed, *((0.0, np.inf) if sign > 0 else (-np.inf, 0.0)))
        every = np.r_[np.arange(2 * self.n)].astype(np.int32)
        objective = np.zeros(2 * self.n)
        if len(target) == 1:
            objective[[target[0], target[0] + self.n]] = [-sign, sign]
        else:
            big, small = target
            objective[[big, big + self.n, small, small + self.n]] = [-sign, sign, sign, -sign]
        self.highs.changeColsCost(len(every), every, objective)
        y = self._run(bounded=False)
        self.highs.changeColsCost(len(every), every, np.r_[self.costs(), self.costs()])
        self._reset(target, fixed)
        if y is None:
            return UNLIMITED
        return float(sign * (y[target[0]] - (y[target[1]] if len(target) > 1 else 0.0)))

    def _set(self, target, fixed, low, high) -> None:
        if len(fixed):
            self._bounds(fixed, np.zeros(len(fixed)), np.zeros(len(fixed)))
        if len(target) == 1:
            t = target[0]
            if np.isfinite(low) and low == high:
                up, down = (low, 0.0) if low > 0 else (0.0, -low)
                cols = np.array([t, t + self.n], dtype=np.int32)
                self.highs.changeColsBounds(2, cols, np.array([up, down]), np.array([up, down]))
            self.highs.changeRowBounds(self.target_row, -np.inf, np.inf)
            if not (np.isfinite(low) and low == high):
                self.highs.changeCoeff(self.target_row, t, 1.0)
                self.highs.changeCoeff(self.target_row, t + self.n, -1.0)
                self.highs.changeRowBounds(self.target_row, low, high)
        else:
            big, small = target
            for col, coef in ((big, 1.0), (big + self.n, -1.0), (small, -1.0), (small + self.n, 1.0)):
                self.highs.changeCoeff(self.target_row, col, coef)
            self.highs.changeRowBounds(self.target_row, low, high)

    def _reset(self, target, fixed) -> None:
        cells = np.unique(np.concatenate((np.asarray(fixed, dtype=np.int64), np.asarray(target, dtype=np.int64))))
        self._bounds(cells, self.up[cells], self.down[cells])
        for t in target:
            self.highs.changeCoeff(self.target_row, int(t), 0.0)
            self.highs.changeCoeff(self.target_row, int(t) + self.n, 0.0)
        self.highs.changeRowBounds(self.target_row, -np.inf, np.inf)

    def _run(self, bounded: bool = True) -> np.ndarray | None:
        self.solved += 1
        status = self._solve()
        if status == self.core.HighsModelStatus.kOptimal:
            x = np.asarray(self.highs.getSolution().col_value)
            return x[: self.n] - x[self.n :]
        if status == self.core.HighsModelStatus.kUnbounded and not bounded:
            return None
        if status in (self.core.HighsModelStatus.kInfeasible, self.core.HighsModelStatus.kUnboundedOrInfeasible):
            return np.full(self.n, np.nan)
        raise RuntimeError(f"skyddet av små tal: lösaren svarade {self.core.HighsModelStatus(status)}")

    def _solve(self):
        """Solve from the last basis. A status that decides nothing (HiGHS's ``Unknown``,
        which stopped `unit_tables` on a generated national set of 20 000 cases) is
        solved again from scratch before it counts; where every first solve decides,
        as on every set before it, the hidden cells stay the same."""
        self.highs.run()
        status = self.highs.getModelStatus()
        if status in self._decided:
            return status
        self.highs.clearSolver()
        self.highs.run()
        return self.highs.getModelStatus()


LOCAL_SHARE = 0.6  # a neighbourhood of more units than this share: the whole problem


def _neighbourhoods(lay: Layout) -> dict[int, frozenset[int]]:
    """unit → the units it shares a published sum with (its län, size class, group):
    where a witness moving the unit's counts finds its counterweights first. Sums that
    cannot move (the country) link nobody."""
    eq = lay.constraint[: lay.n_eq].tocsr()
    pooled = (lay.owner == NO_OWNER) & lay.movable
    near: dict[int, set[int]] = {u: {u} for u in np.unique(lay.owner[lay.owner != NO_OWNER]).tolist()}
    seen = set()
    for r in range(eq.shape[0]):
        cells = eq.indices[eq.indptr[r] : eq.indptr[r + 1]]
        if not pooled[cells].any():
            continue
        units = frozenset(lay.owner[cells].tolist()) - {NO_OWNER}
        if units in seen:
            continue
        seen.add(units)
        for u in units:
            near[u] |= units
    return {u: frozenset(v) for u, v in near.items()}


class Search:
    """The whole search over one problem (``protect``)."""

    def __init__(self, lay: Layout, threshold: int):
        self.lay, self.threshold = lay, threshold
        self.lp = _Programme(lay, threshold)
        self.pool = _Witnesses(lay.owner)
        self.report = Report()
        order = np.argsort(lay.owner, kind="stable")
        bounds = np.searchsorted(lay.owner[order], np.arange(lay.owner.max(initial=-1) + 2))
        self.cells_of = {u: order[bounds[u] : bounds[u + 1]] for u in range(lay.owner.max(initial=-1) + 1)}
        self.near = _neighbourhoods(lay)
        self.local: dict[frozenset[int], _Programme] = {}

    def _programme(self, owner: int) -> _Programme | None:
        """The programme of the owner's neighbourhood (its cells, its neighbours' and
        every sum): much smaller than the whole problem, built once per neighbourhood;
        None where it would be nearly the whole problem."""
        units = self.near.get(owner)
        if owner == NO_OWNER or units is None or len(units) > LOCAL_SHARE * len(self.cells_of):
            return None
        if units not in self.local:
            cols = np.flatnonzero(np.isin(self.lay.owner, [*units, NO_OWNER]))
            self.local[units] = _Programme(self.lay, self.threshold, cols)
        return self.local[units]

    def _fixed(self, attackers: Sequence[int]) -> np.ndarray:
        parts = [self.cells_of.get(a, np.array([], dtype=np.int64)) for a in attackers if a != NO_OWNER]
        return np.concatenate(parts) if parts else np.array([], dtype=np.int64)

    def _hide(self, y: np.ndarray) -> None:
        lay = self.lay
        new = np.flatnonzero((np.abs(y) > TOL) & ~lay.hidden)
        if not new.size:
            return
        lay.hidden[new] = True
        # a hidden N hides its rows (a share n/N would give N away); a row's n can be
        # another row's N (diagram 1): until nothing changes
        big, small = lay.rows[:, 0], lay.rows[:, 1]
        while (more := np.unique(small[lay.hidden[big] & ~lay.hidden[small]])).size:
            lay.hidden[more] = True
            new = np.r_[new, more]
        for programme in (self.lp, *self.local.values()):
            programme.hidden_now(new)

    def _find(
        self, target: tuple[int, ...], sign: int, delta: float, attackers: Sequence[int], owner: int = NO_OWNER
    ) -> bool:
        """A witness for ``attackers`` (hiding what it moves), looked for first among the
        owner's neighbours, then in the whole problem; False when none exists even with
        every movable cell hidden: then the most the target can move is the requirement
        (``Report.limited``)."""
        fixed = self._fixed(attackers)
        local = self._programme(owner)
        y = local.witness(target, sign, delta, fixed) if local is not None and local.covers(target) else None
        if y is None or np.isnan(y).any():
            y = self.lp.witness(target, sign, delta, fixed)
        self.report.programmes += 1
        if np.isnan(y).any():
            reach = self.lp.reach(target, sign, fixed)
            self.report.limited.append((target[0], tuple(attackers), sign, delta, reach))
            if reach < TOL:
                # the marks pin it (a neighbour's "<T" and "dold" bound it from both
                # sides): still keep it from being worked out by the arithmetic alone
                y = self.lp.witness_without_marks(target, sign, fixed)
                if not np.isnan(y).any():
                    self._hide(y)
                return False
            y = self.lp.witness(target, sign, min(reach, delta) * (1 - 1e-9), fixed)
            if np.isnan(y).any():
                return False
            self._hide(y)
            self.pool.add(y)
            return False  # as far as it goes: the requirement cannot be met in full
        self._hide(y)
        self.pool.add(y)
        return True

    def cover(self, target: tuple[int, ...], owner: int, sign: int, delta: float, every_unit: bool) -> None:
        """Witnesses moving ``target`` by ``delta`` in direction ``sign`` for the outsider
        and, ``every_unit``, for every unit but the owner."""
        if delta < TOL:
            return
        left = self.pool.unmet(target, sign, delta, owner)
        if left is None and not self._find(target, sign, delta, (), owner):
            return
        given_up: set[int] = set()
        while every_unit:
            left = (self.pool.unmet(target, sign, delta, owner) or frozenset()) - given_up
            if not left:
                return
            attacker = min(left)
            if not self._find(target, sign, delta, (attacker,), owner):
                given_up.add(attacker)

    def cover_pairs(self, target: tuple[int, ...], owner: int, signs: Sequence[int]) -> None:
        """No two units pin ``target``: a witness moving it by 1 that moves neither's cells."""
        given_up: set[tuple[int, int]] = set()
        while (pair := self.pool.hitting_pair(target, owner)) is not None:
            if pair == (NO_OWNER, NO_OWNER):  # nothing moves it yet
                pair = ()
            if pair in given_up:
                return
            if not any(self._find(target, s, 1.0, pair, owner) for s in signs):
                given_up.add(pair)

    def pinned(self, cell: int) -> bool:
        return not any(abs(d) >= 1 - TOL for d in self.pool.moves.get(cell, {}).values())


def protect(lay: Layout, threshold: int, pairs: bool = True) -> Report:
    """Hide cells of ``lay`` (in place, ``lay.hidden``) until every requirement of the
    module docstring is met; returns what the search did."""
    search = Search(lay, threshold)
    value, owner = lay.value, lay.owner
    small = np.flatnonzero(lay.hidden & (value >= 1) & (value < threshold) & lay.movable)
    for cell in small.tolist():
        v = int(value[cell])
        search.cover((cell,), int(owner[cell]), +1, threshold - 1 - v, True)
        search.cover((cell,), int(owner[cell]), -1, v, True)
        if pairs:
            search.cover_pairs((cell,), int(owner[cell]), (+1, -1) if v < threshold - 1 else (-1,))
    for big, small_ in lay.complements.tolist():
        target = (big, small_)
        cell_owner = int(owner[small_])
        for sign in (+1, -1):
            search.cover(target, cell_owner, sign, 1.0, True)
            if not search.pool.unmet(target, sign, 1.0, cell_owner):
                break
        if pairs:
            search.cover_pairs(target, cell_owner, (+1, -1))
    for cell in small.tolist():  # not even the arithmetic with everything hidden moves it
        if search.pinned(cell) and all(
            np.isnan(search.lp.witness_without_marks((cell,), sign, np.array([], dtype=np.int64))).any()
            for sign in (+1, -1)
        ):
            search.report.pinned.append(cell)
    done = np.zeros(len(value), dtype=bool)
    while (todo := np.flatnonzero(lay.hidden & lay.movable & ~done)).size:
        for cell in todo.tolist():
            if search.pinned(cell):
                for sign in (+1, -1):
                    search.cover((cell,), int(owner[cell]), sign, 1.0, False)
                    if not search.pinned(cell):
                        break
            done[cell] = True
    return search.report
