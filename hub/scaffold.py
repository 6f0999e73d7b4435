"""``hub plugin new NAME [--dir DIR]``: a platform plugin that installs and passes its own tests.

The generated package (``hub-NAME``, module ``hub_NAME``, entry point ``NAME`` in the group
``hub``) is written against the kit: info, client, mapping, rules, adapter, a sandbox, a README
and tests that run hub's conformance suite with the pytest-asyncio setting they need. The
templates live in ``hub/plugin_template`` (``*.tmpl``, ``{{name}}``, ``{{Name}}``,
``{{package}}`` filled in).
"""

from __future__ import annotations

import argparse
import keyword
import re
from pathlib import Path

from .errors import ConfigError

TEMPLATE = Path(__file__).parent / "plugin_template"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def class_prefix(name: str) -> str:
    """``my_shop`` → ``MyShop`` (the generated classes' prefix)."""
    return "".join(part.capitalize() for part in name.split("_") if part)


def new_plugin(name: str, directory: Path | None = None) -> Path:
    """Write the plugin ``name`` into ``directory`` (default ``./hub-NAME``); return the folder.

    Raises :class:`ConfigError` for a name that cannot be a platform id and for a folder that
    already has files (nothing is overwritten)."""
    if not NAME.match(name) or keyword.iskeyword(name):
        raise ConfigError(
            f"plugin name {name!r}: use 2-31 lowercase letters, digits or _, starting with a letter "
            "(it becomes the platform id and the entry-point name)"
        )
    target = (directory or Path(f"hub-{name}")).expanduser()
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"{target}: the folder is not empty; give another --dir")
    values = {"{{name}}": name, "{{Name}}": class_prefix(name), "{{package}}": f"hub_{name}"}
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE).with_suffix("")  # drop .tmpl
        parts = [f"hub_{name}" if part == "package" else part for part in relative.parts]
        dest = target.joinpath(*parts)
        text = source.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
    return target


async def cmd_plugin_new(args: argparse.Namespace) -> int:
    target = new_plugin(args.name, Path(args.dir) if args.dir else None)
    print(f"created {target}/ (package hub_{args.name}, entry point {args.name!r} in the group 'hub')")
    print(f"next: pip install -e {target} && (cd {target} && pytest); then `hub plugins` lists {args.name}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``hub plugin new``."""
    plugin = sub.add_parser("plugin", help="write a new platform plugin")
    actions = plugin.add_subparsers(dest="plugin_command", metavar="ACTION")
    actions.required = True
    new = actions.add_parser("new", help="a plugin package that installs and passes its own tests")
    new.add_argument("name", help="the platform id (lowercase), e.g. douyin")
    new.add_argument("--dir", help="where to write it (default ./hub-NAME), e.g. ~/src/hub-douyin")
    new.set_defaults(func=cmd_plugin_new)
