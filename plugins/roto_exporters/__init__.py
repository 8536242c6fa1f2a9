"""Roto shape exporters for third-party applications, registered as a plugin (kind ``"roto-shapes"``).

Registered through the ``luma.plugins`` entry point exactly as a third
party's plugin would be::

    [project.entry-points."luma.plugins"]
    roto_exporters = "plugins.roto_exporters:register"

Each module holds one format and a class with ``name``, ``title``,
``extension`` and ``export(animation, path, first_frame=None)`` (the
:class:`core.vision.roto_export.ShapeExporter` protocol).
"""

from __future__ import annotations

import importlib

# module name -> class name; each is imported only when the format is used
FORMATS = {
    "nuke": ("plugins.roto_exporters.nuke", "NukeExporter", "Nuke script (.nk) with a Roto node"),
    "silhouette": ("plugins.roto_exporters.silhouette", "SilhouetteExporter", "Silhouette shapes (.fxs)"),
    "aftereffects": ("plugins.roto_exporters.aftereffects", "AfterEffectsExporter",
                     "After Effects script (.jsx) creating masks"),
    "fusion": ("plugins.roto_exporters.fusion", "FusionExporter", "Fusion Polygon mask (.setting / .comp)"),
    "blender": ("plugins.roto_exporters.blender", "BlenderExporter", "Blender Python script creating a Mask"),
    "json": ("plugins.roto_exporters.json_shapes", "JsonExporter", "Luma roto shapes JSON (documented schema)"),
}


def _factory(module: str, cls: str):
    def make(**options):
        return getattr(importlib.import_module(module), cls)(**options)
    return make


def _available(module: str):
    def check() -> str | None:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return f"{module} cannot be imported: {exc}"
        return None
    return check


def register(registry) -> None:
    for name, (module, cls, title) in FORMATS.items():
        registry.add("roto-shapes", name, _factory(module, cls), title, _available(module))
