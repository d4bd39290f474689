"""`python -m workers.simulator`: run the simulator without Django."""

import argparse
import logging

from workers.simulator import cli

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the local WhatsApp Web simulator.")
    cli.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        cli.run(vars(args))
    except (ValueError, OSError) as error:
        parser.exit(2, f"run_simulator: {error}\n")


if __name__ == "__main__":
    main()
