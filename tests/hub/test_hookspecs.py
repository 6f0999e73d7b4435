"""Every hook is documented in docs/plugin-hooks.md with its exact signature, and has a docstring."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from hub import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugin-hooks.md"
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("hub_")]


def documented() -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"^## (hub_\w+)\(([^)]*)\)", DOC.read_text(), re.M)}


def test_there_are_hooks():
    assert "hub_register_platforms" in HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_signature(name: str):
    docs = documented()
    assert name in docs, f"{name} has no section in docs/plugin-hooks.md"
    params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    assert docs[name] == params, f"docs say {name}({docs[name]}), the code says {name}({params})"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_docstring_with_params(name: str):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert doc, f"{name} has no docstring"
    for param in inspect.signature(getattr(hookspecs, name)).parameters:
        assert f":param {param}:" in doc, f"{name} does not document {param}"


def test_no_stale_sections():
    assert set(documented()) <= set(HOOKS), "docs describe hooks that do not exist"
