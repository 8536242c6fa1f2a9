"""Shared by the ``luma`` sub-command modules."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Callable

from core.errors import LumaError

EXIT_ERROR = 1


def guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a command handler; a LumaError is printed as ``luma: message`` and gives exit status 1."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except LumaError as exc:
            print(f"luma: {exc}", file=sys.stderr)
            return EXIT_ERROR

    return run
