"""Log benchmarks: reading the tail of a 1 GB tenant log, and the cost of a JSON line.

    python -m tests.bench.logs      (BENCH_LOG_BYTES=1073741824, BENCH_LOG_LINES=100000)

1. ``tenant_logs -n 200``'s reader on a 1 GB file, against reading the whole file and
   keeping its last 200 lines (what `tail` without seeking costs), in the same run.
2. The tenant JSON logger writing a record to a file, against the standard library's plain
   formatter writing the same record to a file.
"""

import collections
import json
import logging
import os
import tempfile
import time
from pathlib import Path

from tests.bench.harness import report, setup_django, summary


def make_file(path: Path, size: int) -> int:
    line = (
        json.dumps(
            {
                "timestamp": "2026-11-29T10:00:00.000Z",
                "level": "INFO",
                "logger": "tenant.x",
                "message": "message received",
                "event": "message_in",
                "tenant_id": "00000000-0000-4000-8000-000000000000",
                "wa_message_id": "false_***4567@c.us_3EB0123456789ABCDEF",
            }
        )
        + "\n"
    )
    block = line.encode() * 10_000
    written = 0
    with path.open("wb") as handle:
        while written < size:
            handle.write(block)
            written += len(block)
    return written


def whole_file_tail(path: Path, lines: int) -> list[dict]:
    with path.open("rb") as handle:
        last = collections.deque(handle, maxlen=lines)
    return [json.loads(raw) for raw in last]


def bench_tail() -> None:
    from tenants.logs.query import LineFilter
    from tenants.logs.reader import tail

    size = int(os.environ.get("BENCH_LOG_BYTES", str(1024**3)))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "tenant.log"
        written = make_file(path, size)
        ours, whole = [], []
        for _ in range(5):
            started = time.perf_counter()
            assert len(tail([path], lines=200, line_filter=LineFilter())) == 200
            ours.append(time.perf_counter() - started)
        for _ in range(3):
            started = time.perf_counter()
            assert len(whole_file_tail(path, 200)) == 200
            whole.append(time.perf_counter() - started)
    base, mine = summary(whole)[0], summary(ours)[0]
    report(
        f"last 200 lines of a {written / 1024**3:.2f} GiB tenant log",
        [
            ("read the whole file (baseline)", f"median {base * 1000:9.1f} ms", "1.00x"),
            ("tenant_logs -n 200 (from the end)", f"median {mine * 1000:9.1f} ms", f"{mine / base:.5f}x"),
        ],
    )


def bench_formatter() -> None:
    from config.logging import JsonLineFormatter

    count = int(os.environ.get("BENCH_LOG_LINES", "100000"))
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        for name, formatter in [
            ("plain", logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")),
            ("json", JsonLineFormatter()),
        ]:
            handler = logging.FileHandler(Path(directory) / f"{name}.log", encoding="utf-8")
            handler.setFormatter(formatter)
            logger = logging.getLogger(f"bench.{name}")
            logger.handlers, logger.propagate, logger.level = [handler], False, logging.INFO
            extra = {"tenant_id": "00000000-0000-4000-8000-000000000000", "event": "message_in", "n": 1}
            started = time.perf_counter()
            for _ in range(count):
                logger.info("message received", extra=extra)
            results[name] = (time.perf_counter() - started) / count
            handler.close()
    plain, as_json = results["plain"], results["json"]
    report(
        f"cost of one log line written to a file ({count:,} lines)",
        [
            ("standard library, plain formatter (baseline)", f"{plain * 1e6:6.1f} µs a line", "1.00x"),
            (
                "tenant JSON logger (JsonLineFormatter)",
                f"{as_json * 1e6:6.1f} µs a line",
                f"{as_json / plain:.2f}x",
            ),
        ],
    )


def main() -> None:
    setup_django()
    bench_tail()
    bench_formatter()


if __name__ == "__main__":
    main()
