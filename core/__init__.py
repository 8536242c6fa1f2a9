"""Luma Studio engine: pure Python + numpy. Never imports Qt."""

__version__ = "0.1.0"
