"""The project file (one SQLite database per project) and its records."""

from core.project.migrations import MIGRATIONS, Migration, latest_version
from core.project.project import PROJECT_SUFFIX, Project

__all__ = ["MIGRATIONS", "Migration", "PROJECT_SUFFIX", "Project", "latest_version"]
