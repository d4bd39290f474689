"""Page library benchmark: what the pinned wa-js file itself costs in memory.

    python -m tests.bench.page_library            (BENCH_WAJS_ROUNDS=3)

Baseline: a headless Chromium with the worker's flags on about:blank (as in the worker
benchmark). Measured: the same, with wppconnect-wa.js injected. Fresh browsers, baseline and
injected taken in turns, medians over the rounds; garbage collected before each reading so
both sides are measured settled.
"""

import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench.harness import report, setup_django

SETTLE_SECONDS = 2.0


def main() -> None:
    setup_django()
    run()


def measure(profile_dir: Path, *, inject: bool) -> tuple[float, float]:
    """PSS of the browser tree (MiB) and the page's used JS heap (MiB)."""
    from tests.helpers.browser import browser_session
    from workers.procinfo import tree_pss_mib
    from workers.whatsapp.wajs import wa_js_source

    with browser_session(profile_dir) as driver:
        driver.get("about:blank")
        if inject:
            driver.execute_script(wa_js_source())
        time.sleep(SETTLE_SECONDS)
        driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
        heap = driver.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"] / 2**20
        return tree_pss_mib(driver.service.process.pid), heap


def run() -> None:
    from workers.whatsapp.wajs import WA_JS_PATH, wa_js_version

    rounds = int(os.environ.get("BENCH_WAJS_ROUNDS", "3"))
    work = Path(tempfile.mkdtemp(prefix="bench-wajs-"))
    bare, injected = [], []
    for i in range(rounds):
        bare.append(measure(work / f"bare-{i}", inject=False))
        injected.append(measure(work / f"wajs-{i}", inject=True))

    bare_pss = statistics.median(pss for pss, _ in bare)
    bare_heap = statistics.median(heap for _, heap in bare)
    wajs_pss = statistics.median(pss for pss, _ in injected)
    wajs_heap = statistics.median(heap for _, heap in injected)
    size_kib = WA_JS_PATH.stat().st_size / 1024
    report(
        f"page library: wa-js {wa_js_version()} ({size_kib:.0f} KiB) on a blank page, median of {rounds}",
        [
            ("bare Chromium (baseline)", f"{bare_pss:.0f} MiB PSS", "1.00x"),
            ("with wa-js injected", f"{wajs_pss:.0f} MiB PSS", f"{wajs_pss / bare_pss:.2f}x"),
            ("  difference", f"{wajs_pss - bare_pss:+.1f} MiB PSS", ""),
            ("page JS heap, bare (baseline)", f"{bare_heap:.1f} MiB", "1.00x"),
            ("page JS heap, with wa-js", f"{wajs_heap:.1f} MiB", f"{wajs_heap / bare_heap:.2f}x"),
        ],
    )


if __name__ == "__main__":
    main()
