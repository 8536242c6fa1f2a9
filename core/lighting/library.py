"""Where fixture definitions are found, and finding one by name.

Search order (the first file that defines a ``Manufacturer/Model`` wins):

1. explicit paths given by the caller (files or folders), then the folders in
   the ``LUMA_FIXTURE_PATH`` environment variable (``os.pathsep``-separated);
2. the user folder ``$XDG_DATA_HOME/luma/fixtures`` (``~/.local/share/luma/fixtures``);
3. the definitions bundled with Luma Studio (``resources/fixtures``);
4. the fixture library of an installed QLC+ (``/usr/share/qlcplus/fixtures``).

Listing reads only the head of each file; a definition is parsed in full when
it is loaded.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from core.lighting.errors import FixtureDefinitionError
from core.lighting.fixture_def import FixtureDef
from core.lighting.qxf import iter_qxf_files, load_qxf, read_header

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "resources" / "fixtures"
QLCPLUS_DIRS = (Path("/usr/share/qlcplus/fixtures"),)


def user_fixture_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "luma" / "fixtures"


def default_search_paths(extra: Iterable[str | os.PathLike] = ()) -> list[tuple[str, Path]]:
    """(origin, path) pairs in priority order; folders that do not exist are kept (and skipped)."""
    out: list[tuple[str, Path]] = [("explicit", Path(p).expanduser()) for p in extra]
    env = os.environ.get("LUMA_FIXTURE_PATH", "")
    out += [("explicit", Path(p).expanduser()) for p in env.split(os.pathsep) if p.strip()]
    out.append(("user", user_fixture_dir()))
    out.append(("bundled", BUNDLED_DIR))
    out += [("qlcplus", d) for d in QLCPLUS_DIRS]
    return out


@dataclass(frozen=True)
class LibraryEntry:
    key: str
    manufacturer: str
    model: str
    type: str
    path: Path
    origin: str  # explicit, user, bundled, qlcplus


class FixtureLibrary:
    """The fixture definitions found on the search paths."""

    def __init__(self, paths: Iterable[str | os.PathLike] = (), include_defaults: bool = True):
        if include_defaults:
            self.search_paths = default_search_paths(paths)
        else:
            self.search_paths = [("explicit", Path(p).expanduser()) for p in paths]
        self._entries: dict[str, LibraryEntry] | None = None
        self._loaded: dict[str, FixtureDef] = {}
        #: files that could not be read during the scan, as "path: reason"
        self.problems: list[str] = []

    def _scan(self) -> dict[str, LibraryEntry]:
        if self._entries is not None:
            return self._entries
        entries: dict[str, LibraryEntry] = {}
        for origin, path in self.search_paths:
            if path.is_file():
                files: Iterable[Path] = [path]
            elif path.is_dir():
                files = iter_qxf_files(path)
            else:
                if origin == "explicit":
                    self.problems.append(f"{path}: no such file or folder")
                continue
            for f in files:
                try:
                    manufacturer, model, kind = read_header(f)
                except FixtureDefinitionError as exc:
                    self.problems.append(str(exc))
                    continue
                key = f"{manufacturer}/{model}"
                if key not in entries:
                    entries[key] = LibraryEntry(key, manufacturer, model, kind, f, origin)
        self._entries = entries
        return entries

    def refresh(self) -> None:
        self._entries = None
        self._loaded.clear()
        self.problems.clear()

    def entries(self) -> list[LibraryEntry]:
        return sorted(self._scan().values(), key=lambda e: (e.manufacturer.lower(), e.model.lower()))

    def search(self, text: str = "") -> list[LibraryEntry]:
        """Entries whose manufacturer, model or type contain every word of ``text`` (any case)."""
        words = text.lower().split()
        return [
            e for e in self.entries()
            if all(w in f"{e.manufacturer} {e.model} {e.type}".lower() for w in words)
        ]

    def __contains__(self, key: str) -> bool:
        return key in self._scan()

    def load(self, key: str) -> FixtureDef:
        """The definition ``Manufacturer/Model``; the error suggests close names."""
        if key in self._loaded:
            return self._loaded[key]
        entries = self._scan()
        entry = entries.get(key)
        if entry is None:
            close = difflib.get_close_matches(key, list(entries), n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise FixtureDefinitionError(
                f"fixture definition {key!r} not found in {self._describe_paths()}.{hint} "
                f"Put its .qxf file into {user_fixture_dir()} or pass its path."
            )
        definition = load_qxf(entry.path)
        if definition.key != key:
            raise FixtureDefinitionError(f"{entry.path}: defines {definition.key!r}, expected {key!r}")
        self._loaded[key] = definition
        return definition

    def _describe_paths(self) -> str:
        existing = [str(p) for _, p in self.search_paths if p.exists()]
        return ", ".join(existing) if existing else "any fixture folder (none exists)"
