"""`hub plugin new`: the scaffold installs into a fresh virtualenv beside hub and passes its own
tests (the conformance suite) unchanged; `hub plugins` then lists it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.scaffold import class_prefix, new_plugin


def test_names_and_folders_are_checked(tmp_path: Path) -> None:
    assert class_prefix("my_shop") == "MyShop"
    for bad in ("Bad", "1x", "has-dash", "class", "x"):
        with pytest.raises(ConfigError, match="plugin name"):
            new_plugin(bad, tmp_path / bad)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        new_plugin("shopx", tmp_path / "taken")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


def test_every_template_is_filled(tmp_path: Path) -> None:
    target = new_plugin("shopx", tmp_path / "hub-shopx")
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "hub_shopx/__init__.py",
        "hub_shopx/adapter.py",
        "hub_shopx/client.py",
        "hub_shopx/info.py",
        "hub_shopx/mapping.py",
        "hub_shopx/rules.py",
        "hub_shopx/sandbox.py",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/test_conformance.py",
        "tests/test_mapping.py",
    ]
    for path in target.rglob("*"):
        if path.is_file():
            assert "{{" not in path.read_text(), f"{path}: an unfilled placeholder"
    assert 'shopx = "hub_shopx"' in (target / "pyproject.toml").read_text()
    assert 'asyncio_mode = "auto"' in (target / "pyproject.toml").read_text()
    # The generated code passes the linter under its own configuration, as generated.
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=target, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.slow
def test_generated_plugin_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    hub_cmd = [sys.executable, "-m", "hub"]
    made = subprocess.run(
        [*hub_cmd, "plugin", "new", "shopx", "--dir", str(tmp_path / "hub-shopx")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    # A fresh virtualenv that sees this one's packages (hub and its dependencies) the way
    # --system-site-packages would; the plugin is installed into the new one only.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    vsite = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(vsite, "hub-parent.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n"
    )
    pip = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(tmp_path / "hub-shopx")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_PLUGINS", "HUB_DISABLED_PLUGINS")}
    listed = subprocess.run(
        [python, "-m", "hub", "plugins"], capture_output=True, text=True, env=env, timeout=120
    )
    assert any(line.startswith("shopx ") for line in listed.stdout.splitlines()), listed.stdout
    # Its own tests, from outside the folder: the installed package is what they import.
    run = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "hub-shopx")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and " failed" not in run.stdout
