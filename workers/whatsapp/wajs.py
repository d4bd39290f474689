"""The pinned wa-js (``@wppconnect/wa-js``, see package.json): its file, its version, and what
its ``.d.ts`` declarations say, so a test can hold the worker's contract (contract.py) to them.

The declarations are read with regular expressions, which is enough for the tsc output wa-js
ships: ``export declare function f(a: A, b?: B)``, ``export declare const f: <T>(a: A) => R``,
``export { a as b } from './x'``, ``export * from './x'``, ``export * as ns from './x'``.
"""

import json
import logging
import re
from functools import cache
from pathlib import Path

from workers.whatsapp.contract import WA_JS_FILE, WA_JS_PACKAGE

logger = logging.getLogger(__name__)

# The project directory is the one that holds the ``workers`` package (and package.json).
PROJECT_DIR = Path(__file__).resolve().parents[2]
WA_JS_PATH = PROJECT_DIR / WA_JS_FILE
PACKAGE_DIR = PROJECT_DIR / "node_modules" / WA_JS_PACKAGE
DIST_DIR = PACKAGE_DIR / "dist"


class WaJsMissing(RuntimeError):
    """The pinned page library is not installed (``npm ci`` has not run here)."""


def _read_installed(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WaJsMissing(
            f"{path} is missing: install the pinned page library with `make node_modules/.installed` "
            f"(or `npm ci --ignore-scripts` in {PROJECT_DIR})"
        ) from None


@cache
def wa_js_source() -> str:
    """The text of wppconnect-wa.js, to inject into the page after each navigation."""
    return _read_installed(WA_JS_PATH)


@cache
def wa_js_version() -> str:
    return str(json.loads(_read_installed(PACKAGE_DIR / "package.json"))["version"])


# --- What the .d.ts files declare -----------------------------------------------------------

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_OPENERS, _CLOSERS = "([{<", ")]}>"


def _source(path: Path) -> str:
    return _COMMENT.sub("", path.read_text(encoding="utf-8"))


def _module(importer: Path, specifier: str) -> Path:
    """The .d.ts file an import specifier such as './functions' names."""
    base = importer.parent / specifier
    file = base.parent / f"{base.name}.d.ts"
    return file if file.exists() else base / "index.d.ts"


def _balanced(text: str, start: int) -> str:
    """The text inside the bracket that opens at ``start`` (``=>`` is not a closing ``>``)."""
    depth = 0
    for i in range(start, len(text)):
        char = text[i]
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS and not (char == ">" and text[i - 1] == "="):
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    raise ValueError(f"unbalanced bracket at {start}")


def _split_top_level(params: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for i, char in enumerate(params):
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS and not (char == ">" and params[i - 1] == "="):
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [part for part in [*parts, current] if part.strip()]


def _parameter_names(text: str, start: int) -> list[str]:
    """The parameter names of the signature that follows ``start`` (generics skipped)."""
    position = start
    while text[position] != "(":
        position += len(_balanced(text, position)) + 2 if text[position] == "<" else 1
    names = []
    for param in _split_top_level(_balanced(text, position)):
        match = re.match(r"\s*(?:\.\.\.)?(\w+)", param)
        if match:
            names.append(match.group(1))
    return names


def _export(module: Path, name: str) -> tuple[Path, str] | None:
    """The file that declares what ``module`` exports as ``name``, and its name there."""
    text = _source(module)
    if re.search(rf"export declare (?:function|const|let|class) {name}\b", text):
        return module, name
    for names, specifier in re.findall(r"export (?:type )?\{([^}]*)\} from '([^']+)'", text):
        for item in names.split(","):
            original, _, alias = (part.strip() for part in item.partition(" as "))
            if name == (alias or original) and original:
                return _export(_module(module, specifier), original)
    for specifier in re.findall(r"export \* from '([^']+)'", text):
        found = _export(_module(module, specifier), name)
        if found:
            return found
    return None


def _namespace(module: Path, name: str) -> Path | None:
    """The module behind ``export * as name`` (or ``import * as name`` and ``export { name }``)."""
    match = re.search(rf"(?:export|import) \* as {name} from '([^']+)'", _source(module))
    return _module(module, match.group(1)) if match else None


def _const_type(module: Path, name: str) -> tuple[Path, str] | None:
    """Where the class of ``export declare const name: SomeClass`` is declared."""
    found = _export(module, name)
    if not found:
        return None
    file, declared = found
    text = _source(file)
    match = re.search(rf"export declare const {declared}: (\w+);", text)
    if not match:
        return None
    type_name = match.group(1)
    imported = re.search(rf"import \{{[^}}]*\b{type_name}\b[^}}]*\}} from '([^']+)'", text)
    return _export(_module(file, imported.group(1)), type_name) if imported else (file, type_name)


def _method_parameters(file: Path, class_name: str, method: str) -> list[str] | None:
    text = _source(file)
    match = re.search(rf"export declare class {class_name}\b[^{{]*", text)
    if not match:
        return None
    body_start = match.end()
    body = _balanced(text, body_start)
    method_match = re.search(rf"^\s+{method}\s*(?=[<(])", body, re.M)
    return _parameter_names(text, body_start + 1 + method_match.end()) if method_match else None


def declared_parameters(dist_dir: Path, path: str) -> list[str] | None:
    """The parameter names the .d.ts files declare for ``WPP.<path>``; None if not declared.

    ``path`` is dotted: namespaces (``chat``), then a function (``chat.sendTextMessage``), or a
    constant whose class declares the method (``whatsapp.Socket.takeover``).
    """
    *outer, name = path.split(".")
    module = dist_dir / "index.d.ts"
    for position, segment in enumerate(outer):
        inner = _namespace(module, segment)
        if inner:
            module = inner
            continue
        holder = _const_type(module, segment)
        if not holder or position != len(outer) - 1:
            return None
        return _method_parameters(*holder, name)
    found = _export(module, name)
    if not found:
        return None
    file, declared = found
    text = _source(file)
    match = re.search(rf"export declare (?:function {declared}\b|const {declared}:\s*)", text)
    return _parameter_names(text, match.end()) if match else None


def declared_events(dist_dir: Path) -> set[str]:
    """The event names wa-js declares: the keys of its ``*EventTypes`` interfaces."""
    events = set()
    for file in dist_dir.rglob("*.d.ts"):
        text = _source(file)
        for match in re.finditer(r"export interface \w*Event(?:Types|s)\b[^{]*", text):
            body = _balanced(text, match.end())
            events.update(re.findall(r"^\s*'([^']+)'\??\s*:", body, re.M))
    return events
