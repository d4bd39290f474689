"""The pinned page library wa-js, as installed by ``npm ci --ignore-scripts``."""

import json
from functools import cache
from pathlib import Path

from workers.whatsapp.contract import WA_JS_FILE

PROJECT_DIR = Path(__file__).resolve().parents[2]


class WaJsMissing(RuntimeError):
    pass


@cache
def wa_js_source() -> str:
    path = PROJECT_DIR / WA_JS_FILE
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WaJsMissing(f"{path} is missing: run `make` (or `npm ci --ignore-scripts`)") from exc


def wa_js_version() -> str:
    package = PROJECT_DIR / "node_modules/@wppconnect/wa-js/package.json"
    return str(json.loads(package.read_text(encoding="utf-8"))["version"])
