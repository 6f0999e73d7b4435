"""Field and method lists of the plugin kit's types, generated from the code for the docs.

``docs/writing-a-plugin.md`` holds blocks between ``<!-- fields: module.Type -->`` and
``<!-- /fields -->``; ``python -m hub.docfields docs/writing-a-plugin.md`` rewrites them, and a
test fails when a block differs from what the code says (a field added, renamed or re-typed).
The meaning column is the field's ``#:`` comment in the source.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any

BLOCK = re.compile(r"(<!-- fields: (?P<name>[\w.]+) -->\n)(?P<body>.*?)(<!-- /fields -->)", re.S)


def _resolve(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _comments(cls: type) -> dict[str, str]:
    """``name -> comment`` from ``name: type = value  #: comment`` lines (or a ``#:`` line above)."""
    out: dict[str, str] = {}
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        return out
    above: list[str] = []
    for line in lines[1:]:
        text = line.strip()
        if text.startswith("#:"):
            above.append(text[2:].strip())
            continue
        match = re.match(r"^(\w+)\s*:\s*[^=]+?(?:=.*?)?(?:#:\s*(?P<c>.*))?$", text)
        if match and not text.startswith(("def ", "return ", "if ", "for ")):
            name = match.group(1)
            comment = match.group("c") or " ".join(above)
            if comment and name not in out:
                out[name] = comment
        above = []
    return out


def _type_text(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    return str(text).replace("|", "\\|")


def _default(field: dataclasses.Field[Any]) -> str:
    if field.default is not dataclasses.MISSING:
        value = field.default
        if callable(value):
            return f"`{getattr(value, '__module__', '')}.{getattr(value, '__name__', 'callable')}`"
        text = (
            f"`{value.value!r}`" if hasattr(value, "value") and not isinstance(value, str) else f"`{value!r}`"
        )
        return text.replace("|", "\\|")
    if field.default_factory is not dataclasses.MISSING:
        factory = field.default_factory
        return f"`{getattr(factory, '__name__', 'factory')}()`"
    return "required"


def _methods(cls: type) -> list[str]:
    rows = []
    for name, fn in inspect.getmembers(cls, predicate=inspect.isfunction):
        if name.startswith("_") and not (
            (name == "__post_init__" and inspect.getdoc(fn)) or name == "__init__"
        ):
            continue
        if fn.__qualname__.split(".")[0] != cls.__name__:
            continue
        doc = (inspect.getdoc(fn) or "").split("\n\n")[0].replace("\n", " ")
        if name == "__init__":
            if dataclasses.is_dataclass(cls):
                continue
            doc = "construct it; the parameters are the class docstring's"
        params = ", ".join(p for p in inspect.signature(fn).parameters if p != "self")
        rows.append(f"| `{name}({params})` | {doc.replace('|', '/')} |")
    return rows


def render(dotted: str) -> str:
    """The markdown block for one type: its fields (dataclasses, protocols), then its methods."""
    cls = _resolve(dotted)
    comments = _comments(cls)
    lines: list[str] = []
    if dataclasses.is_dataclass(cls):
        lines += ["| field | type | default | meaning |", "|---|---|---|---|"]
        for f in dataclasses.fields(cls):
            if f.name.startswith("_"):
                continue
            lines.append(
                f"| `{f.name}` | {_type_text(f.type)} | {_default(f)} | {comments.get(f.name, '')} |"
            )
    else:
        annotations = {k: v for k, v in inspect.get_annotations(cls).items() if not k.startswith("_")}
        if annotations:
            lines += ["| attribute | type | meaning |", "|---|---|---|"]
            for name, annotation in annotations.items():
                lines.append(f"| `{name}` | {_type_text(annotation)} | {comments.get(name, '')} |")
    methods = _methods(cls)
    if methods:
        if lines:
            lines.append("")
        lines += ["| method | what it does |", "|---|---|", *methods]
    return "\n".join(lines) + "\n"


def refresh(text: str) -> str:
    """``text`` with every fields block regenerated."""
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("name")) + m.group(4), text)


def stale_blocks(text: str) -> list[str]:
    """The names of the blocks whose text differs from the code."""
    return [m.group("name") for m in BLOCK.finditer(text) if m.group("body") != render(m.group("name"))]


def main(argv: list[str]) -> int:
    for arg in argv or ["docs/writing-a-plugin.md"]:
        path = Path(arg)
        path.write_text(refresh(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
