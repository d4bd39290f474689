"""``make bench``: every benchmark, one after the other."""

from tests.bench import stale, worker

if __name__ == "__main__":
    stale.main()
    worker.main()
