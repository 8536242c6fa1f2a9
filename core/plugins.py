"""The plugin registry: named implementations of core's protocols, found through entry points.

core defines what a detector, a tracker, a segmenter or an exporter is; the
implementations live in core itself (the ones that need no heavy libraries)
or in plugins registered through the ``luma.plugins`` entry point group,
exactly as a third party's package would register its own::

    [project.entry-points."luma.plugins"]
    ultralytics = "plugins.ultralytics_backend:register"

Each entry point names a function ``register(registry)`` that calls
:meth:`Registry.add`. Factories are registered, not instances, so nothing
heavy (torch) is imported until a backend is actually used. A plugin that
fails to load is recorded in :attr:`Registry.failures` with the reason and the
others still load; ``luma plugins`` (and the GUI) show those reasons.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Callable

from core.errors import LumaError

GROUP = "luma.plugins"


class PluginError(LumaError):
    """A plugin or a named backend is missing or failed to load."""


@dataclass(frozen=True)
class Entry:
    kind: str  # "detector", "tracker", "segmenter", "exporter", ...
    name: str
    factory: Callable[..., Any]
    title: str
    available: Callable[[], str | None]  # None when usable, else why not (missing weights, library)
    origin: str  # "core" or the plugin's entry point name


def _always() -> str | None:
    return None


class Registry:
    def __init__(self):
        self._entries: dict[tuple[str, str], Entry] = {}
        self.failures: dict[str, str] = {}
        self._loaded = False
        self._lock = threading.RLock()
        self._origin = "core"

    def add(self, kind: str, name: str, factory: Callable[..., Any], title: str = "",
            available: Callable[[], str | None] | None = None) -> None:
        with self._lock:
            self._entries[(kind, name)] = Entry(kind, name, factory, title or name, available or _always,
                                                self._origin)

    def load_plugins(self) -> None:
        """Run every ``luma.plugins`` entry point once."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            for ep in entry_points(group=GROUP):
                self._origin = ep.name
                try:
                    ep.load()(self)
                except Exception as exc:  # a broken plugin must not take the application down
                    self.failures[ep.name] = f"{type(exc).__name__}: {exc}"
                finally:
                    self._origin = "core"

    def entries(self, kind: str) -> list[Entry]:
        self.load_plugins()
        with self._lock:
            return [e for (k, _), e in sorted(self._entries.items()) if k == kind]

    def get(self, kind: str, name: str) -> Entry:
        self.load_plugins()
        with self._lock:
            entry = self._entries.get((kind, name))
        if entry is None:
            known = ", ".join(e.name for e in self.entries(kind)) or "none"
            hint = "".join(f"; plugin {n} failed to load: {why}" for n, why in self.failures.items())
            raise PluginError(f"no {kind} named {name!r} (available: {known}){hint}")
        return entry

    def create(self, kind: str, name: str, *args, **kwargs) -> Any:
        entry = self.get(kind, name)
        reason = entry.available()
        if reason:
            raise PluginError(f"{kind} {name!r} cannot be used: {reason}")
        return entry.factory(*args, **kwargs)


registry = Registry()
