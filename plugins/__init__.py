"""Plugins: implementations registered through the luma.plugins entry point group."""
