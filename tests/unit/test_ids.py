"""Request and event ids: unique, uuid4-shaped, and not repeated by a forked worker."""

from __future__ import annotations

import multiprocessing
import re

from models.ids import unique_hex


def test_an_id_is_32_hex_digits():
    assert re.fullmatch(r"[0-9a-f]{32}", unique_hex())


def test_ids_do_not_repeat():
    ids = {unique_hex() for _ in range(100_000)}

    assert len(ids) == 100_000


def _child_ids(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put([unique_hex() for _ in range(100)])


def test_a_forked_child_does_not_repeat_its_parents_ids():
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_ids, args=(queue,))
    child.start()
    in_child = queue.get(timeout=30)
    child.join()
    in_parent = [unique_hex() for _ in range(100)]

    assert not set(in_child) & set(in_parent)
