"""A page of rows is freed as soon as it is answered: reading the rows (their names beside
ids among them) leaves no reference cycle behind, which only the garbage collector could
free, after walking every object in it."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import Api, Factory

GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
ENROLLMENTS = "/api/lms/courses/enrollments/"
ROWS = 5


@contextmanager
def cyclic_garbage() -> Iterator[Counter[str]]:
    """The types of the objects that became cyclic garbage inside the block."""
    found: Counter[str] = Counter()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.update(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_reading_enrollments_with_names_leaves_no_row_in_a_cycle(
    api: Api, make: Factory
) -> None:
    course = await make.course()
    path = f"{ENROLLMENTS}?course={course['id']}"
    for n in range(ROWS):
        await api.post(f"{ENROLLMENTS}course/{course['id']}/", {"user_id": f"u{n}"}, as_="admin")
    await api.get(path, as_="admin")  # the first read fills the statement caches

    with cyclic_garbage() as garbage:
        listed = await api.get(path, as_="admin")

    assert len(listed.body["results"]) == ROWS
    assert garbage["InstanceState"] == 0, garbage.most_common(5)


async def test_reading_a_groups_members_leaves_no_row_in_a_cycle(api: Api) -> None:
    group = (await api.post(GROUPS, {"name": "Readers"}, as_="instructor")).body
    for n in range(ROWS):
        await api.post(MEMBERS, {"group": group["id"], "user_id": f"u{n}"}, as_="instructor")
    path = f"{MEMBERS}?group={group['id']}"
    await api.get(path, as_="instructor")

    with cyclic_garbage() as garbage:
        listed = await api.get(path, as_="instructor")

    assert len(listed.body["results"]) == ROWS + 1  # and the group's creator
    assert garbage["InstanceState"] == 0, garbage.most_common(5)
