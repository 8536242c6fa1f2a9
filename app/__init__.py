"""The Qt shell of Luma Studio: entry point, main window, controllers, CLI."""
