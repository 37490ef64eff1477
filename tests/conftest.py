"""Test session set-up shared by every test module.

Makes the repository importable both as the plugin package `mrs` (as QGIS
imports it) and, for the pure model tests, with `model_core` at the top level.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_IMPORT_DIR = Path(tempfile.mkdtemp(prefix="mrs-import-"))
(_IMPORT_DIR / "mrs").symlink_to(ROOT, target_is_directory=True)
sys.path[:0] = [str(_IMPORT_DIR), str(ROOT)]


def pytest_unconfigure(config) -> None:
    shutil.rmtree(_IMPORT_DIR, ignore_errors=True)
