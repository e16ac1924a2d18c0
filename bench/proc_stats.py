"""A process's descriptors, memory and CPU, as the load tools read them (Linux /proc)."""

from __future__ import annotations

import os
import resource


def raise_nofile() -> None:
    """As many descriptors as allowed (a server started from here inherits the limits)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds the process has used."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """The process and its descendants (a server's workers, say)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


def tree_rss_kb(pid: int) -> int:
    return sum(rss_kb(member) for member in tree(pid))


def tree_cpu_s(pid: int) -> float:
    return sum(cpu_s(member) for member in tree(pid))
