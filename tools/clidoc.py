"""Write docs/cli.md, the CLI reference, from the commands' own ``--help`` (tests check it is current).

Usage: ``python tools/clidoc.py`` (writes) or ``python tools/clidoc.py --check`` (exit 1 when stale).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from secops.cli import cli

OUT = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def _walk(command: click.Command, path: list[str], parent: click.Context | None = None) -> list[str]:
    settings = {"terminal_width": 100, "max_content_width": 100, **command.context_settings}
    ctx = click.Context(command, parent=parent, info_name=path[-1], **settings)
    parts = [f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`\n", "```text", command.get_help(ctx), "```\n"]
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                parts += _walk(sub, [*path, name], ctx)
    return parts


def render() -> str:
    header = [
        "# CLI reference\n",
        "Generated from `--help` by `tools/clidoc.py`; `tests/unit/test_clidoc.py` fails when it is stale.\n",
    ]
    return "\n".join(header + _walk(cli, ["secops"]))


def main() -> None:
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.exists() and OUT.read_text(encoding="utf-8") == text else 1)
    OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
