"""The repository stands alone: nothing in it points at documents outside it.

The project was written from background notes that are not part of the repository. Every fact a
user needs is carried into the repository's own docs (rule sources live in ``docs/rules/``), so no
tracked file — code, comment, doc, test, page text — may name those notes or their folder. This
test reads every tracked text file (``git ls-files``; binary files skipped) and lists each
offending ``file:line``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Built from parts so that this file does not name what it forbids.
_FORBIDDEN = [
    re.escape("shared" + "/"),
    "DESI" + "GN",
    "DOMA" + "IN",
    re.escape("platform" + "-apis"),
    re.escape("jd" + "-jos"),
    re.escape("anchors" + "-"),
    re.escape("seeds" + "/"),
    r"(?i:\bseeds?[ _-]?0\d)",  # a numbered background document
]
PATTERN = re.compile("|".join(_FORBIDDEN))


def tracked_files() -> list[Path]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    out = subprocess.run([git, "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout.decode(
        "utf-8"
    )
    return [ROOT / name for name in out.split("\0") if name]


def text_of(path: Path) -> str | None:
    """The file's text, or ``None`` for a binary (or missing) file."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None  # deleted in the work tree but not yet from the index
    if b"\0" in data[:8192]:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def offenders(files: list[Path]) -> list[str]:
    found: list[str] = []
    for path in files:
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            match = PATTERN.search(line)
            if match:
                found.append(f"{path.relative_to(ROOT)}:{number}: {match.group()!r}: {line.strip()[:120]}")
    return found


def test_the_pattern_catches_each_kind_of_reference() -> None:
    for text in (
        "see ../" + "sha" + "red/" + "notes",
        "DESI" + "GN.md's table",
        "DOMA" + "IN.md 17网",
        "reference/platform" + "-apis.md §3",
        "jd" + "-jos.md",
        "anchors" + "-style.md",
        "seeds" + "/003 售后代发",
        "[se" + "ed 003 备注(1)]",
        "Se" + "eds 001, 004",
    ):
        assert PATTERN.search(text), text
    for text in ("random.Random(seed)", "deterministic for a seed", "a shared session", "seed=17"):
        assert not PATTERN.search(text), text


def test_no_tracked_file_points_outside_the_repository() -> None:
    files = tracked_files()
    assert len(files) > 50  # the whole repository, not an empty listing
    found = offenders(files)
    assert not found, f"{len(found)} references to documents outside the repository:\n" + "\n".join(found)
