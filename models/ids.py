"""Identifiers that must be unique, not secret: request ids and log records' event ids.

`uuid.uuid4()` reads the kernel's random source for each one, a system call that lets go of
the GIL; under load a thread then waits for the GIL to come back (py-spy showed 10-16% of a
create request there, with the worker threads busy). The random module's generator is
seeded from the kernel once, and again in every forked child (so Celery's prefork workers
do not repeat a parent's sequence); 128 bits of it collide no more than uuid4's 122.
Anything a client must not guess (media file names, token ids) keeps `uuid.uuid4()`.
"""

from __future__ import annotations

import random


def unique_hex() -> str:
    """32 hex digits, like `uuid.uuid4().hex`."""
    return f"{random.getrandbits(128):032x}"
