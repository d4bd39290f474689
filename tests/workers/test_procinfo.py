import os
import subprocess
import sys

from tests.helpers.processes import wait_until
from workers.procinfo import process_tree, pss_kib, tree_pss_mib


def test_it_finds_a_process_and_its_child_and_sums_their_memory():
    sleeper = "import time; time.sleep(30)"
    code = (
        f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {sleeper!r}]); time.sleep(30)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        tree = wait_until(
            lambda: len(process_tree(parent.pid)) == 2 and process_tree(parent.pid), what="a child"
        )
        assert tree[0] == parent.pid
        assert all(pss_kib(pid) > 0 for pid in tree)
        assert tree_pss_mib(parent.pid) * 1024 >= sum(pss_kib(pid) for pid in tree) - 1
    finally:
        for pid in process_tree(parent.pid)[::-1]:
            os.kill(pid, 9)
        parent.wait()


def test_it_says_a_gone_process_costs_nothing():
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert pss_kib(gone.pid) == 0
