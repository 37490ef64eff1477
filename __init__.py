"""QGIS plugin entry point.

QGIS imports this package at start (and qgis_process with `iface` None), so it
imports nothing: the plugin class, and everything behind it, loads on call.
"""


def classFactory(iface):  # noqa: N802 - the name QGIS looks for
    """Create the plugin object for QGIS (`iface` is None under qgis_process)."""
    from .mrs_qgis_plugin.plugin import MrsPlugin

    return MrsPlugin(iface)
