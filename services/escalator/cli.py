"""The escalator service's commands of the `careline` CLI (wired in shared/cli.py)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this service's commands to the main `careline` app."""
