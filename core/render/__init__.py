"""Rendering frames of a sequence."""
