"""`lms serve` runs the collector on its event loop's terms: the collections CPython's
thresholds call for, from a timer of the loop; a full one too whenever the loop's thread is
quiet and something was promoted since the last; and it freezes what survives them."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Iterator

import pytest
from aiohttp import web

from web.gc_pauses import (
    QUIET_WINDOW_SECONDS,
    UNFROZEN_LIMIT,
    LoopCollector,
    short_gc_pauses_ctx,
    sweep,
)


class Clocks:
    """Wall and CPU time a test moves by hand."""

    def __init__(self) -> None:
        self.wall = 1000.0
        self.cpu = 10.0

    def spend(self, seconds: float, busy: float) -> None:
        """`seconds` pass with `busy` of a core used."""
        self.wall += seconds
        self.cpu += seconds * busy


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def collector(clocks: Clocks) -> Iterator[LoopCollector]:
    """A collector with automatic collection off, as `lms serve` runs it; the suite's
    defaults (on, nothing frozen) come back after the test."""
    gc.disable()
    try:
        gc.collect()  # counts from zero, whatever ran before
        yield LoopCollector(clock=lambda: clocks.wall, cpu_clock=lambda: clocks.cpu)
    finally:
        gc.enable()
        gc.unfreeze()


def make_full_collection_due() -> None:
    full = gc.get_threshold()[2]
    while gc.get_count()[2] <= full:
        gc.collect(1)


def test_a_tick_runs_the_young_collection_the_allocations_call_for(collector):
    young = gc.get_threshold()[0]
    kept = [[] for _ in range(young * 2)]
    assert gc.get_count()[0] > young  # automatic collection is off: nothing ran

    collector.tick()

    assert gc.get_count()[0] < young
    assert len(kept) == young * 2


def test_a_tick_with_few_allocations_collects_nothing(collector):
    gc.collect(0)
    before = gc.get_count()

    collector.tick()

    assert gc.get_count()[1:] == before[1:]


def test_young_objects_the_count_misses_are_collected(collector):
    """Freeing a frozen object takes one off the young count: sockets closing while
    others connect kept it near zero over 200,000 young objects."""
    young = gc.get_threshold()[0]
    leaving = [[] for _ in range(young * 4)]
    gc.freeze()
    arriving = [[] for _ in range(young * 2)]
    del leaving
    assert gc.get_count()[0] < young  # the count says nothing is due

    collector.tick()

    assert len(gc.get_objects(0)) < young
    assert len(arriving) == young * 2


def make_middle_collection_due() -> None:
    middle = gc.get_threshold()[1]
    while gc.get_count()[1] <= middle:
        gc.collect(0)


def test_a_middle_collection_promoting_many_objects_freezes_them_at_once(collector):
    gc.freeze()  # the test process's own objects: gen2 starts empty
    make_middle_collection_due()
    frozen = gc.get_freeze_count()
    arrived = [[] for _ in range(UNFROZEN_LIMIT + 1000)]  # a burst of sockets' objects

    collector.tick()

    assert collector.full_collections == 1
    assert gc.get_freeze_count() - frozen >= len(arrived)
    assert len(gc.get_objects(2)) < UNFROZEN_LIMIT


def test_a_middle_collection_promoting_few_objects_leaves_them_to_the_next_full_one(collector):
    gc.freeze()
    make_middle_collection_due()
    young = gc.get_threshold()[0]
    arrived = [[] for _ in range(young * 2)]

    collector.tick()

    assert collector.full_collections == 0
    assert len(gc.get_objects(2)) >= len(arrived)


def test_a_due_full_collection_runs_however_busy_the_process_is(collector, clocks):
    make_full_collection_due()
    clocks.spend(QUIET_WINDOW_SECONDS, busy=1.0)

    collector.tick()

    assert collector.full_collections == 1
    assert gc.get_count()[2] == 0


def test_a_full_collection_freezes_its_survivors(collector, clocks):
    frozen = gc.get_freeze_count()
    survivors = [[] for _ in range(100)]
    make_full_collection_due()

    collector.tick()

    assert gc.get_freeze_count() - frozen >= len(survivors)


def test_a_quiet_process_walks_what_a_burst_promoted_before_it_is_due(collector, clocks):
    gc.collect(1)  # something promoted; a full collection is far from due
    clocks.spend(QUIET_WINDOW_SECONDS, busy=0.1)

    collector.tick()

    assert collector.full_collections == 1


def test_a_busy_process_leaves_a_full_collection_that_is_not_due(collector, clocks):
    gc.collect(1)
    clocks.spend(QUIET_WINDOW_SECONDS, busy=0.9)

    collector.tick()

    assert collector.full_collections == 0
    assert gc.get_count()[2] == 1


def test_another_thread_busy_on_a_core_leaves_the_loop_quiet() -> None:
    """The embedded worker busy after a burst of handshakes is no reason to put
    the collection off until the next burst: it yields the core to the loop."""
    gc.disable()
    stop = threading.Event()

    def burn() -> None:
        while not stop.is_set():
            sum(range(1000))

    burner = threading.Thread(target=burn)
    try:
        gc.collect()
        collector = LoopCollector()  # the real clocks: this thread is the loop's
        burner.start()
        collector.tick()
        time.sleep(QUIET_WINDOW_SECONDS * 1.5)  # this thread idle, the other one busy
        gc.collect(1)  # something promoted

        collector.tick()

        assert collector.full_collections == 1
    finally:
        stop.set()
        burner.join()
        gc.enable()
        gc.unfreeze()


def test_a_quiet_process_with_nothing_promoted_runs_no_full_collection(collector, clocks):
    gc.collect()  # nothing promoted since
    clocks.spend(QUIET_WINDOW_SECONDS, busy=0.0)

    collector.tick()

    assert collector.full_collections == 0


def test_a_sweep_reclaims_a_cycle_that_died_frozen() -> None:
    class Node:
        other: Node

    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    gc.freeze()
    try:
        del first, second
        gc.collect()
        assert alive() is not None  # frozen garbage: no collection looks at it
        _, reclaimed = sweep()
        assert alive() is None
        assert reclaimed >= 2  # the two nodes (and their dicts), reported
    finally:
        gc.unfreeze()


async def test_serving_turns_automatic_collection_off_and_stopping_turns_it_back_on():
    serving = short_gc_pauses_ctx(web.Application())

    await serving.__anext__()
    try:
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0  # what starting made
    finally:
        with pytest.raises(StopAsyncIteration):
            await serving.__anext__()

    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_failing_tick_is_logged_and_the_timer_goes_on(collector, monkeypatch, caplog):
    def broken(generation: int = 2) -> int:
        raise RuntimeError("the collector failed")

    young = gc.get_threshold()[0]
    kept = [[] for _ in range(young * 2)]
    monkeypatch.setattr(gc, "collect", broken)

    collector.tick()

    assert "garbage collection tick failed" in caplog.text
    assert len(kept) == young * 2
