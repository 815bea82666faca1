"""A scroll's served plan positions as runs (the feed cursor's ``k``): what is left of the plan
and the runs after a page, worked out on the runs themselves, agree with the sets of positions
they stand for."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from app.services.feed import _free, _merged, _ordered, _runs


def _expand(runs: list[int]) -> set[int]:
    return {i for start, end in zip(runs[::2], runs[1::2], strict=True)
            for i in range(start, end)}


positions = st.sets(st.integers(0, 60), max_size=40)


@given(served=positions, page=st.lists(st.integers(0, 70), max_size=25), n=st.integers(0, 70))
def test_runs_agree_with_the_positions_they_stand_for(served, page, n):
    runs = _runs(served)
    assert _ordered(runs) and _expand(runs) == served
    assert list(_free(runs, n)) == [i for i in range(n) if i not in served]
    assert _merged(runs, page, n) == _runs({i for i in served if i < n} | set(page))


def test_only_runs_as_runs_makes_them_are_taken():
    assert _ordered([]) and _ordered([0, 40]) and _ordered([0, 20, 25, 26])
    for bad in ([0], [0, 0], [5, 3], [0, 20, 20, 30], [0, 20, 10, 30], [0, 1.5], [0, "2"],
                [True, 3]):
        assert not _ordered(bad), bad


def test_a_long_scroll_stays_one_run():
    rng = random.Random(3)
    runs: list[int] = []
    for page in range(10):
        served = list(range(20 * page, 20 * page + 20))
        rng.shuffle(served)
        runs = _merged(runs, served, 200)
    assert runs == [0, 200]
