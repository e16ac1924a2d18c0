"""`lms serve` freezes what survives each full collection, so later ones walk less."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from web.gc_pauses import FreezeAfterFullCollections, sweep


@pytest.fixture
def thawed() -> Iterator[None]:
    """Whatever a test freezes is thawed after it: the suite keeps the defaults."""
    yield
    gc.unfreeze()


async def test_a_full_collection_freezes_its_survivors(thawed: None) -> None:
    freezer = FreezeAfterFullCollections(asyncio.get_running_loop())
    gc.callbacks.append(freezer)
    try:
        survivor = [[] for _ in range(100)]
        gc.collect()
        await asyncio.sleep(0)  # the freeze runs on the loop, after the collector
        assert freezer.freezes == 1
        assert gc.get_freeze_count() >= len(survivor)
    finally:
        gc.callbacks.remove(freezer)


async def test_a_young_collection_freezes_nothing(thawed: None) -> None:
    freezer = FreezeAfterFullCollections(asyncio.get_running_loop())
    gc.callbacks.append(freezer)
    try:
        gc.collect(0)
        await asyncio.sleep(0)
        assert freezer.freezes == 0
        assert gc.get_freeze_count() == 0
    finally:
        gc.callbacks.remove(freezer)


def test_a_sweep_reclaims_a_cycle_that_died_frozen(thawed: None) -> None:
    class Node:
        other: Node

    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    gc.freeze()
    del first, second
    gc.collect()
    assert alive() is not None  # frozen garbage: no collection looks at it
    sweep()
    assert alive() is None
