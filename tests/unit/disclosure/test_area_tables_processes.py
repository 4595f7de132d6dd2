"""How many processes rule unit_tables protects its tables in: a spawned worker costs
more than small tables take, so they are protected in the rule's own process."""

from __future__ import annotations

from kvinnofrid.disclosure.area_tables import ROWS_PER_WORKER, processes


def test_small_tables_stay_in_one_process_and_large_ones_get_the_rules_threads():
    small = {"2": ROWS_PER_WORKER // 2, "7": ROWS_PER_WORKER // 2 - 1}
    assert processes(small, workers=2) == 1  # the demo's size: spawning costs more than it saves
    large = {"2": ROWS_PER_WORKER, "7": ROWS_PER_WORKER, "26": ROWS_PER_WORKER}
    assert processes(large, workers=2) == 2  # never more than the rule's threads
    assert processes(large, workers=8) == 3  # one table is one process's work at most
    assert processes(large, workers=1) == 1
    assert processes({"18": 10 * ROWS_PER_WORKER}, workers=2) == 1
    assert processes({}, workers=2) == 1
