"""Command-line options of the simulator, shared by `python -m workers.simulator` and `run_simulator`."""

import argparse
import logging
from collections.abc import Mapping
from typing import Any

from workers.simulator.server import serve

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9000, help="port to bind; 0 picks a free one")
    parser.add_argument("--qr-rotate-seconds", type=float, default=20.0, help="how long each QR code shows")
    parser.add_argument(
        "--qr-max-rotations",
        type=int,
        default=6,
        help="codes per round before the page offers a reload button",
    )
    parser.add_argument(
        "--loading-seconds", type=float, default=0.6, help="loading view at start and after a scan"
    )
    parser.add_argument(
        "--send-ack-seconds", type=float, default=0.2, help="time from one ack tick to the next"
    )
    parser.add_argument(
        "--link-code-seconds", type=float, default=195.0, help="lifetime of a pairing code (wa-js: 195)"
    )


def run(options: Mapping[str, Any]) -> None:
    """Serve with parsed options until SIGTERM/SIGINT."""
    serve(
        options["host"],
        options["port"],
        qr_rotate_seconds=options["qr_rotate_seconds"],
        qr_max_rotations=options["qr_max_rotations"],
        loading_seconds=options["loading_seconds"],
        send_ack_seconds=options["send_ack_seconds"],
        link_code_seconds=options["link_code_seconds"],
    )
