"""Memory of a process tree, as the kernel accounts it (PSS), for the heartbeat and benchmarks.

PSS splits shared pages between the processes sharing them, so a tree's sum is what the tree
really costs; RSS would count Chromium's shared pages again in every process.
"""

import os
from pathlib import Path

PROC = Path("/proc")


def children_by_parent() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone while we looked
        # The command name may hold spaces and parentheses: the fields start after the last ")".
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def process_tree(*roots: int) -> list[int]:
    """The ``roots`` and all their descendants, from one walk of /proc."""
    tree = children_by_parent()
    found, todo = [], list(roots)
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def pss_kib(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass  # the process exited: it costs nothing any more
    return 0


def tree_pss_mib(*roots: int) -> float:
    return sum(pss_kib(p) for p in process_tree(*roots)) / 1024


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(*roots: int) -> float:
    return sum(cpu_seconds(p) for p in process_tree(*roots))
