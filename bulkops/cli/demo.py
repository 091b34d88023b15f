"""`bulkops demo` commands (being built)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this module's commands to the `bulkops` parser."""
