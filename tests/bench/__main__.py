"""``make bench``: every benchmark, one after the other."""

from tests.bench import pagination, stale, worker

if __name__ == "__main__":
    stale.main()
    pagination.main()
    worker.main()
