"""QGIS plugin entry point.

QGIS imports this package at start (and qgis_process with `iface` None), so it
imports nothing but `typing`: the plugin class, and everything behind it, loads on call.
"""

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from qgis.gui import QgisInterface

    from .mrs_qgis_plugin.plugin import MrsPlugin


def classFactory(iface: Optional["QgisInterface"]) -> "MrsPlugin":  # noqa: N802 - the name QGIS looks for
    """Create the plugin object for QGIS (`iface` is None under qgis_process)."""
    from .mrs_qgis_plugin.plugin import MrsPlugin

    return MrsPlugin(iface)
