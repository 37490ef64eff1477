"""The plugin object QGIS creates: it registers the Processing provider."""

from typing import Optional

from qgis.core import QgsApplication

from .provider import MrsProvider


class MrsPlugin:
    """Adds the MRS algorithms to Processing and removes them on unload.

    QGIS desktop calls `initGui`; qgis_process calls only `initProcessing`.
    """

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: Optional[MrsProvider] = None

    def initProcessing(self) -> None:  # noqa: N802 - QGIS API name
        if self.provider is None:
            self.provider = MrsProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 - QGIS API name
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
