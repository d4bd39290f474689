"""``make bench``: every benchmark, one after the other."""

from tests.bench import worker

if __name__ == "__main__":
    worker.main()
