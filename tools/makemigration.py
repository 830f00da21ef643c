"""Autogenerate an alembic migration: ``python tools/makemigration.py MESSAGE REV --head PARENT [--branch-label L]``.

Each feature keeps its own migration branch off the foundation (``0001``) so features land independently;
``secops.db.upgrade`` applies every head.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command

from secops.db import alembic_config, make_engine, upgrade_to


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("message")
    parser.add_argument("rev_id")
    parser.add_argument("--head", default="heads", help="revision the new one follows (default: all heads)")
    parser.add_argument("--branch-label", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'gen.db'}")
        upgrade_to(engine, "heads")  # compare against every branch: only the new tables show up
        cfg = alembic_config(engine)
        command.revision(
            cfg,
            message=args.message,
            autogenerate=True,
            rev_id=args.rev_id,
            head=args.head,
            branch_label=args.branch_label,
            splice=args.head not in ("head", "heads"),
        )


if __name__ == "__main__":
    main()
