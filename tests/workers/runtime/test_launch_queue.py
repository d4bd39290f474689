"""The host's line to launch browsers: at most N at once, first come first launched."""

import threading
import time

import pytest

from tests.helpers.processes import wait_until
from workers.runtime.launch import LaunchQueue, StoppedWaiting


class Waiter(threading.Thread):
    """One worker's turn: joins the line, holds its slot until told to let go."""

    def __init__(self, queue_dir, name: str, log: list, slots: int = 2) -> None:
        super().__init__(daemon=True)
        self.queue = LaunchQueue(queue_dir, slots=slots, name=name)
        self.positions: list[int | None] = []
        self.release = threading.Event()
        self.stop = threading.Event()
        self.log = log
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            with self.queue.slot(on_position=self.positions.append, stopping=self.stop.is_set):
                self.log.append(("in", self.queue.name))
                self.release.wait(30)
                self.log.append(("out", self.queue.name))
        except StoppedWaiting as exc:
            self.error = exc


def holding(log: list) -> set[str]:
    inside: set[str] = set()
    for step, name in log:
        (inside.add if step == "in" else inside.discard)(name)
    return inside


def test_at_most_two_launch_at_once_and_the_rest_go_in_the_order_they_came(tmp_path):
    log: list = []
    waiters = []
    for name in "abcde":
        waiters.append(Waiter(tmp_path, name, log))
        waiters[-1].start()
        # Joined in this order: each is holding a slot or has a place before the next starts.
        wait_until(lambda w=waiters[-1]: w.positions or ("in", w.queue.name) in log, what=f"{name} in line")
    wait_until(lambda: len(holding(log)) == 2, what="two launching")
    time.sleep(0.5)
    assert holding(log) == {"a", "b"}
    assert [w.positions[-1] for w in waiters[2:]] == [1, 2, 3]  # "1st in line" is next

    for waiter in waiters:
        waiter.release.set()
        waiter.join(10)

    assert [name for step, name in log if step == "in"] == list("abcde")
    assert max(len(holding(log[:i])) for i in range(len(log) + 1)) == 2
    places = waiters[4].positions  # 3rd in line, moving up (steps may pass between polls), then launched
    assert places[0] == 3 and places[-1] is None and places[:-1] == sorted(set(places[:-1]), reverse=True)
    assert not list((tmp_path / "line").iterdir())  # every ticket gone


def test_a_dead_workers_ticket_does_not_hold_the_line(tmp_path):
    (tmp_path / "line").mkdir()
    (tmp_path / "line" / f"{time.time_ns() - 10**10:020d}-999999-dead").write_text("")
    log: list = []
    waiter = Waiter(tmp_path, "alive", log, slots=1)
    waiter.start()

    wait_until(lambda: holding(log) == {"alive"}, what="the live worker launching")
    waiter.release.set()
    waiter.join(10)
    assert not list((tmp_path / "line").iterdir())


def test_a_stop_while_in_line_leaves_the_line(tmp_path):
    log: list = []
    first, second = Waiter(tmp_path, "first", log, slots=1), Waiter(tmp_path, "second", log, slots=1)
    first.start()
    wait_until(lambda: holding(log) == {"first"}, what="the first launching")
    second.start()
    wait_until(lambda: second.positions == [1], what="the second in line")

    second.stop.set()
    second.join(10)
    first.release.set()
    first.join(10)

    assert isinstance(second.error, StoppedWaiting)
    assert [name for step, name in log if step == "in"] == ["first"]
    assert not list((tmp_path / "line").iterdir())


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (111, "111th"),
    ],
)
def test_places_in_line_read_as_people_say_them(n, words):
    from tenants.history import in_line_words

    assert in_line_words(n) == f"Starting, {words} in line"
