"""Help that belongs in a dialog: a bundled help page per algorithm, the plugin menu, no command-line notes."""

import dataclasses
import re
from pathlib import Path

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QUrl

import mrs
from mrs.mrs_qgis_plugin.job_parameters import CLASSIFY, PRETRAIN

ROOT = Path(__file__).resolve().parents[1]


def test_every_algorithm_has_a_help_button_to_its_section_of_the_bundled_page(provider):
    page = ROOT / "resources" / "help" / "index.html"
    anchors = set(re.findall(r'id="([a-z-]+)"', page.read_text(encoding="utf-8")))
    for algorithm in provider.algorithms():
        url = QUrl(algorithm.helpUrl())
        assert Path(url.toLocalFile()) == page and url.fragment() in anchors, algorithm.id()
        assert url.fragment() == algorithm.name()


def test_the_dialogs_help_has_no_command_line_notes_and_qgis_process_keeps_them(provider):
    for algorithm in provider.algorithms():
        assert "On the command line" not in algorithm.shortHelpString(), algorithm.id()
        assert all("--" not in p.help() for p in algorithm.parameterDefinitions()), algorithm.id()
    preset = PRETRAIN.parameter("PRESET")
    assert preset.full_help(command_line=True) == (
        preset.help + " On the command line, type the name (--PRESET=small), not the number qgis_process lists.")
    # a number's default and bounds, which qgis_process 3.22 does not print (a helper's review of 2026-12-06)
    tile_size, batch_size = CLASSIFY.parameter("TILE_SIZE"), CLASSIFY.parameter("BATCH_SIZE")
    assert tile_size.full_help(command_line=True) == tile_size.help + " Default 256; a whole number from 16 to 8192."
    assert batch_size.full_help(command_line=True) == batch_size.help + " A whole number of at least 1."
    rate = PRETRAIN.parameter("LEARNING_RATE")  # its help writes its bounds: not again in other figures
    assert rate.full_help(command_line=True) == rate.help + " Default 0.001."
    epochs = dataclasses.replace(PRETRAIN.parameter("EPOCHS"), help="Passes; 0.1 of them in 2021 runs.")  # no 1 there
    assert epochs.command_line_note() == " Default 60; a whole number of at least 1."


def test_the_plugin_menu_offers_the_installer_the_help_and_about(qgis_processing, qgis_iface):
    plugin = mrs.classFactory(qgis_iface)
    plugin.initGui()
    try:
        assert [action.text() for action in plugin.actions] == ["Install Python packages…", "Help", "About…"]
    finally:
        plugin.unload()
    assert plugin.actions == [] and QgsApplication.processingRegistry().providerById("mrs") is None


def test_the_device_is_chosen_from_a_list_of_the_devices_there_are(provider):
    from processing.gui.wrappers import WidgetWrapperFactory
    from qgis.PyQt.QtWidgets import QWidget

    from mrs.mrs_qgis_plugin.device_widget import DeviceWidgetWrapper, device_choices

    assert device_choices(["NVIDIA RTX A4000, 16376 MiB", "NVIDIA A100, 81920 MiB"]) == [
        ("auto", "auto: cuda:0 if torch was built with CUDA, else the CPU"), ("cpu", "cpu: the processor"),
        ("cuda:0", "cuda:0: NVIDIA RTX A4000, 16376 MiB"), ("cuda:1", "cuda:1: NVIDIA A100, 81920 MiB")]
    assert device_choices([])[0] == ("auto", "auto: the CPU (no NVIDIA GPU found)")
    for name in ("finetune", "workflow"):  # the workflow's was a text box (a desktop helper of 2026-12-06)
        assert provider.algorithm(name).parameterDefinition("DEVICE").metadata() == {
            "widget_wrapper": {"class": "mrs.mrs_qgis_plugin.device_widget.DeviceWidgetWrapper"}}, name
    parameter = provider.algorithm("classify").parameterDefinition("DEVICE")
    wrapper = WidgetWrapperFactory.create_wrapper(parameter, QWidget())
    assert isinstance(wrapper, DeviceWidgetWrapper) and wrapper.value() == "auto"
    wrapper.setValue("cpu")
    assert wrapper.value() == "cpu" and wrapper.widget.currentText() == "cpu: the processor"
    wrapper.setValue("cuda:3")
    assert wrapper.value() == "cuda:3"
    tip = wrapper.createLabel().toolTip()  # QGIS's own labels' (a desktop helper of 2026-12-05: 'DEVICE')
    assert tip.startswith("<p><b>Device</b></p><p>Where the model runs") and "DEVICE" in tip


def test_a_vector_parameter_s_label_names_every_geometry_it_takes(provider):
    """Lines are taken as samples since 2026-12-05, but the labels still said "(points or polygons)"."""
    from qgis.core import QgsProcessingParameterFeatureSource, QgsProcessingParameterVectorLayer

    words = {0: "points", 1: "lines", 2: "polygons"}
    labels = {}
    for algorithm in provider.algorithms():
        for parameter in algorithm.parameterDefinitions():
            if isinstance(parameter, (QgsProcessingParameterFeatureSource, QgsProcessingParameterVectorLayer)):
                taken = [words[kind] for kind in parameter.dataTypes() if kind in words]
                labels[(algorithm.id(), parameter.name())] = (parameter.description(), taken)
    assert ("mrs:workflow", "SAMPLES") in labels and ("mrs:accuracy", "REFERENCE") in labels
    for where, (label, taken) in labels.items():
        named = re.findall(r"\b(points|lines|polygons)\b", label)
        assert named == taken, (where, label)


def test_the_toolbox_finds_every_algorithm_by_its_subject_and_shows_what_it_does(provider):
    """A desktop helper of 2026-12-05: searching the Toolbox for 'hyperspectral', 'lidar' or 'kappa'
    found nothing, and the tooltips showed a name and an id only."""
    found = {}
    for algorithm in provider.algorithms():
        assert {"hyperspectral", "lidar", "sar", "land cover", "classification"} <= set(algorithm.tags()), algorithm.id()
        assert algorithm.shortDescription().endswith(".") and 20 < len(algorithm.shortDescription()) < 200
        for word in ("kappa", "active learning", "self-supervised", "band correlation"):
            if word in algorithm.tags():
                found[word] = algorithm.id()
    assert found == {"kappa": "mrs:accuracy", "active learning": "mrs:suggest", "self-supervised": "mrs:pretrain",
                     "band correlation": "mrs:redundancy"}
    assert "mrs:workflow" in [algorithm.id() for algorithm in provider.algorithms()]
