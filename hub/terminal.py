"""Printing platform data to a terminal safely.

Case fields come from platforms, buyers and import files: a reason or a name carrying ``\\x1b[2J``
(clear the screen), an OSC title sequence, a carriage return that overwrites the line, or a bidi
override that reverses what follows would act on the agent's terminal instead of being shown.
Human-readable output goes through :class:`SafeStream`, which drops every C0 control but the
newline and tab, DEL, every C1 control and the bidi controls. JSON output keeps the data exact: the
JSON encoder escapes C0 itself, and :func:`json_text` also writes C1 and bidi characters as
``\\uXXXX`` escapes, so a parser reads back exactly what was stored and a terminal shows no effect.
"""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

from .scrub import scrub_text

#: what never reaches a terminal raw: C0 (but \t and \n), DEL, C1, and the Unicode bidi controls
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """``text`` with the characters a terminal would obey removed."""
    return UNSAFE.sub("", text)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def json_text(value: Any, **kw: Any) -> str:
    """``json.dumps`` whose output holds no raw control or bidi character (escaped, not dropped)."""
    return UNSAFE.sub(_escape, json.dumps(value, **kw))


class SafeStream:
    """A text stream that cleans everything written to it (see :func:`clean`) and hides the known
    secret values (:func:`hub.scrub.scrub_text`) before passing it on."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(clean(scrub_text(text)))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, buffer: as the wrapped stream
        return getattr(self.stream, name)
