"""``make bench``: every benchmark, one after the other."""

from tests.bench import density, logs, page_library, pagination, stale, startup, webhooks, worker

if __name__ == "__main__":
    logs.main()
    stale.main()
    pagination.main()
    webhooks.main()
    page_library.main()
    worker.main()
    startup.main()
    density.main()
