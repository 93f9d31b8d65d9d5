"""Where drill progress is kept: --db PATH, else $CNNCALC_DRILL_DB, else the user's data directory.

The data directory is $XDG_DATA_HOME/cnncalc when XDG_DATA_HOME is set (on any platform), else
~/.local/share/cnncalc on Linux and other Unix systems, ~/Library/Application Support/cnncalc on macOS and
%LOCALAPPDATA%\\cnncalc on Windows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VARIABLE = "CNNCALC_DRILL_DB"
FILE_NAME = "drill.sqlite3"


def data_directory() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if xdg and os.path.isabs(xdg):  # the XDG spec says relative values are invalid and must be ignored
        return Path(xdg) / "cnncalc"
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "cnncalc"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "cnncalc"
    return home / ".local" / "share" / "cnncalc"


def database_path(option: str | None = None) -> Path:
    """The progress database: the --db option, the environment variable, or the default location."""
    if option:
        return Path(option).expanduser()
    from_env = os.environ.get(ENV_VARIABLE, "")
    if from_env:
        return Path(from_env).expanduser()
    return data_directory() / FILE_NAME


def chosen(option: str | None = None) -> bool:
    """Whether the database path was chosen (the --db option or the environment variable), not the default."""
    return bool(option) or bool(os.environ.get(ENV_VARIABLE, ""))
