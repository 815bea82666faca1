"""A feed plan's stored layout (``app.models.feed.PlanItems``): one line of note ids, then
one line per item, so a page parses only the items it serves."""

from __future__ import annotations

import orjson
import pytest

from app.models.feed import PackedPlan, PlanItems

ITEMS = [[n, n % 3, 1.0 / n, "trending", ["trending", "fresh"], "trending",
          {"topic": "护肤🧴", "line": "a\nb"}, n % 2 == 0] for n in range(1, 201)]


def test_a_packed_plan_reads_back_the_same_items():
    packed = PlanItems(ITEMS).pack()
    lines = packed.split("\n")     # the ids and where each item starts, then one per line
    assert len(lines) == 201 and orjson.loads(lines[0])["ids"] == list(range(1, 201))
    assert [orjson.loads(line) for line in lines[1:]] == ITEMS
    plan = PlanItems.unpack(packed)
    assert plan.ids == list(range(1, 201)) and len(plan) == 200
    assert list(plan) == ITEMS and plan == ITEMS
    assert plan[-1] == ITEMS[-1] and plan[5:8] == ITEMS[5:8] and plan[::50] == ITEMS[::50]
    assert plan.pack() is packed    # read and not changed: written back as it was read
    with pytest.raises(IndexError):
        plan[200]


def test_only_the_items_asked_for_are_parsed():
    plan = PlanItems.unpack(PlanItems(ITEMS).pack())
    window = [plan[i] for i in (40, 41, 42)]
    assert window == ITEMS[40:43]
    parsed = [i for i, item in enumerate(plan._items) if item is not None]
    assert parsed == [40, 41, 42]
    assert plan[40] is window[0]    # parsed once


@pytest.mark.parametrize("positions", [
    [], [7], list(range(10, 40)), [0, 1, 2, 5, 6, 9, 150, 151, 199], [3, 4, 4, 5], [9, 8, 7]])
def test_taking_positions_parses_each_run_at_once_and_gives_the_items(positions):
    plan = PlanItems.unpack(PlanItems(ITEMS).pack())
    first = plan[4]                          # parsed before: kept, not parsed again
    taken = plan.take(positions)
    assert taken == [ITEMS[i] for i in positions]
    assert plan.take(positions) == taken and all(
        a is b for a, b in zip(plan.take(positions), taken, strict=True))
    assert plan[4] is first
    assert [i for i, item in enumerate(plan._items) if item is not None] == sorted(
        set(positions) | {4})
    assert PlanItems(ITEMS).take(positions) == taken      # a plan made from a list


def test_plans_written_as_one_json_array_still_read():
    plan = PlanItems.unpack(orjson.dumps(ITEMS[:3]).decode())
    assert plan.ids == [1, 2, 3] and list(plan) == ITEMS[:3]


def test_the_column_takes_a_list_or_a_plan_and_gives_a_plan():
    column = PackedPlan()
    packed = column.process_bind_param(ITEMS[:2], None)
    assert column.process_bind_param(PlanItems(ITEMS[:2]), None) == packed
    assert column.process_result_value(packed, None) == ITEMS[:2]
    assert column.process_bind_param(None, None) is None
    assert column.process_result_value(None, None) is None
    assert PlanItems.unpack(PlanItems([]).pack()) == []
