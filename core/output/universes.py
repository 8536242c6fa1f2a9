"""Universe lists as people type them: ``"1-4, 7"`` <-> ``[1, 2, 3, 4, 7]``.

An empty text means "every universe of the show" (an empty list), as in
:class:`~core.output.config.OutputConfig`. Numbers are show universes,
1..63999 (the sACN range, the largest any output carries).
"""

from __future__ import annotations

import re

from core.output.base import OutputError

MIN_UNIVERSE = 1
MAX_UNIVERSE = 63999
MAX_LISTED = 4096  # a range wider than this is surely a typing mistake

_RANGE = re.compile(r"^(\d+)\s*(?:(?:-|\u2013|\.\.)\s*(\d+))?$")


def parse_universe_list(text: str) -> list[int]:
    """``"1-4, 7"`` -> ``[1, 2, 3, 4, 7]`` (sorted, no duplicates); ``""`` -> ``[]`` (every universe).

    Items are separated by commas, semicolons or spaces; a range is ``a-b``
    (or ``a..b``). Raises :class:`OutputError` saying which item is wrong.
    """
    text = (text or "").strip()
    if not text or text.lower() in ("all", "*"):
        return []
    found: set[int] = set()
    # "1 - 4" is one range: close the spaces around range marks before splitting on spaces
    compact = re.sub(r"\s*(-|\u2013|\.\.)\s*", r"\1", text)
    for item in re.split(r"[,;\s]+", compact):
        if not item:
            continue
        m = _RANGE.match(item)
        if m is None:
            raise OutputError(f"universes {text!r}: {item!r} is not a number or a range like 1-4")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise OutputError(f"universes {text!r}: the range {item} runs backwards (write {hi}-{lo})")
        if lo < MIN_UNIVERSE or hi > MAX_UNIVERSE:
            raise OutputError(f"universes {text!r}: {item} is outside {MIN_UNIVERSE}..{MAX_UNIVERSE}")
        if hi - lo + 1 + len(found) > MAX_LISTED:
            raise OutputError(f"universes {text!r}: more than {MAX_LISTED} universes for one output")
        found.update(range(lo, hi + 1))
    return sorted(found)


def format_universe_list(universes) -> str:
    """``[1, 2, 3, 4, 7]`` -> ``"1-4, 7"``; ``[]`` -> ``""``. Runs of consecutive numbers become ranges."""
    values = sorted({int(u) for u in universes or ()})
    if not values:
        return ""
    parts: list[str] = []
    start = prev = values[0]
    for u in values[1:] + [None]:
        if u is not None and u == prev + 1:
            prev = u
            continue
        parts.append(str(start) if start == prev else (f"{start}, {prev}" if prev == start + 1 else f"{start}-{prev}"))
        if u is not None:
            start = prev = u
    return ", ".join(parts)
