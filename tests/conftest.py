"""Test session set-up shared by every test module.

Makes the repository importable both as the plugin package `mrs` (as QGIS
imports it) and, for the pure model tests, with `model_core` at the top level.
"""

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_IMPORT_DIR = Path(tempfile.mkdtemp(prefix="mrs-import-"))
(_IMPORT_DIR / "mrs").symlink_to(ROOT, target_is_directory=True)
sys.path[:0] = [str(_IMPORT_DIR), str(ROOT)]


def pytest_configure(config) -> None:
    """Ctrl-C and SIGHUP as a terminal gives them, to this process and the runs it starts, whatever
    the suite was started with: a run started in the background of a script ignores Ctrl-C, one
    under nohup SIGHUP, and the tests that send them to a run waited for it in vain (a fresh clone's
    .ci/run started so, 2026-12-06). The tests of an ignored signal set it so themselves."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def pytest_unconfigure(config) -> None:
    shutil.rmtree(_IMPORT_DIR, ignore_errors=True)


@pytest.fixture
def provider(qgis_processing):
    """The MRS provider, registered in Processing for one test and removed afterwards.

    With it, `processing.run("mrs:<algorithm>", {...})` runs the plugin's code.
    """
    from qgis.core import QgsApplication

    from mrs.mrs_qgis_plugin.provider import MrsProvider

    registry = QgsApplication.processingRegistry()
    mrs_provider = MrsProvider()
    assert registry.addProvider(mrs_provider)
    yield mrs_provider
    registry.removeProvider(mrs_provider)
