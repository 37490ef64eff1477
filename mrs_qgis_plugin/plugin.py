"""The plugin object QGIS creates: it registers the Processing provider and, in the desktop,
its menu and the offer to install the Python packages the algorithms need."""

from typing import Any, Callable, List, Optional

from qgis.core import Qgis, QgsApplication
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QCoreApplication, QUrl
from qgis.PyQt.QtGui import QDesktopServices, QIcon
from qgis.PyQt.QtWidgets import QAction, QMessageBox, QPushButton

from ..model_core.names import joined
from .dependencies import module_name, not_usable, packages_folder, pinned_requirements, use_packages_folder
from .provider import MrsProvider

MENU = "&MRS land cover"


def tr(text: str) -> str:
    return QCoreApplication.translate("MrsPlugin", text)


class MrsPlugin:
    """Adds the MRS algorithms to Processing and removes them on unload.

    QGIS desktop calls `initGui`; qgis_process calls only `initProcessing`. Both
    see the packages that the installer put into the plugin's folder of the profile.
    """

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: Optional[MrsProvider] = None
        self.actions: List[QAction] = []
        self.missing_message = None
        self.installer = None
        self.packages = packages_folder(QgsApplication.qgisSettingsDirPath())
        use_packages_folder(self.packages)

    def initProcessing(self) -> None:  # noqa: N802 - QGIS API name
        if self.provider is None:
            self.provider = MrsProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 - QGIS API name
        self.initProcessing()
        self.add_action(tr("Install Python packages…"), self.show_installer)
        self.add_action(tr("Help"), self.show_help)
        self.add_action(tr("About…"), self.show_about)
        missing = not_usable(pinned_requirements())
        if missing:
            self.offer_installation(missing)

    def add_action(self, text: str, slot: Callable[[], Any]) -> QAction:
        from ..algorithms.base import ICON_PATH

        action = QAction(QIcon(ICON_PATH), text, self.iface.mainWindow())
        action.triggered.connect(slot)
        self.iface.addPluginToMenu(MENU, action)
        self.actions.append(action)
        return action

    def offer_installation(self, missing: List[str]) -> None:
        """A message bar that names what is missing, with a button that opens the installer; one short line
        (a desktop helper of 2026-12-07: a sentence of three lines was cut off in the bar's one-line box),
        the installer saying the rest."""
        names = joined([module_name(requirement) for requirement in missing])
        bar = self.iface.messageBar()
        message = bar.createMessage(tr("MRS land cover"), tr("Training and mapping need {}.").format(names))
        button = QPushButton(tr("Install…"), message)
        button.clicked.connect(self.show_installer)
        message.layout().addWidget(button)
        self.missing_message = bar.pushWidget(message, Qgis.Warning)

    def show_installer(self) -> None:
        """Shows the installer: the one whose pip still runs where the analyst closed it meanwhile (a new one
        offered Install again, and a second pip wrote into the same folder: a helper's mutation audit of
        2026-12-07), else a new one."""
        from .installer_dialog import InstallerDialog

        if self.installer is None or self.installer.task is None:
            self.installer = InstallerDialog(self.packages, self.iface.mainWindow())
            self.installer.installed.connect(self.withdraw_offer)
        self.installer.show()
        self.installer.raise_()

    def show_help(self) -> None:
        from ..algorithms.base import HELP_PAGE

        QDesktopServices.openUrl(QUrl.fromLocalFile(HELP_PAGE))

    def show_about(self) -> None:
        from ..model_core import __version__

        QMessageBox.about(self.iface.mainWindow(), tr("About MRS land cover"), tr(
            "<h3>MRS land cover (SS-MAE) {}</h3>"
            "<p>Land-cover maps from hyperspectral plus SAR or LiDAR rasters: a spatial-spectral masked "
            "autoencoder pretrained with Mining Redundant Spectra masking, fine-tuned on a few labels.</p>"
            "<p>Python packages: {}.</p><p>Licence: GNU General Public License, version 2 or later (the LICENSE file of the plugin).</p>"
        ).format(__version__, self.packages))

    def withdraw_offer(self) -> None:
        """Removes the message bar's offer to install, if it is shown: the packages import now, or
        the plugin unloads. An offer the analyst closed was deleted by QGIS: its wrapper raised a
        RuntimeError, which stopped the unload (a helper's mutation audit of 2026-12-07)."""
        if self.missing_message is not None and not sip.isdeleted(self.missing_message):
            self.iface.messageBar().popWidget(self.missing_message)
        self.missing_message = None

    def unload(self) -> None:
        """Removes all the plugin added: its menu's actions (deleted, not left as hidden children of
        the main window), the offer to install and the installer, and the provider. Each reload
        without torch added another offer, whose button was dead once the plugin was gone
        (packaging red team of 2026-12-04)."""
        for action in self.actions:
            self.iface.removePluginMenu(MENU, action)
            action.deleteLater()
        self.actions = []
        self.withdraw_offer()
        if self.installer is not None:
            self.installer.close()
            self.installer = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
