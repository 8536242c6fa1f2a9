"""Bundled resources (icons, style sheets, shaders, fixtures) and generators."""
