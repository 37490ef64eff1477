"""Edges of the hooks, the errors, the heap, the choices, the digits, the BLAS buffer, the pretraining's positions and
the desktop parts (provider, plugin, device list, installer dialog) that a second mutation audit (2026-12-07) found
no test pinning: each test fails on a small, plausible bug that the suite let pass."""

import contextlib
import os
import signal
from types import SimpleNamespace

import pytest

from model_core import hooks as hooks_module
from model_core.hooks import CANCELLING_SIGNALS, Hooks, Pace, cancel_on_sigterm


# ------------------------------------------------------------------------------------------ hooks

def test_a_part_of_the_work_passes_its_status_on_and_keeps_a_fraction_below_0_at_its_start():
    """bin/mrs shows the status beside its bar: a part's must reach it; its progress never goes below its start."""
    shown, progress, resumed = [], [], []
    part = Hooks(status=shown.append, progress=progress.append, resumed=resumed.append).sub(0.2, 0.4)
    part.status("Pretraining epoch 1/2")
    part.progress(-0.5)
    part.resumed(-1.0)
    assert (shown, progress, resumed) == (["Pretraining epoch 1/2"], [0.2], [0.2])


def test_the_pace_s_hooks_tick_the_pace(monkeypatch):
    """The pace's hooks say the time left from the progress they pass on."""
    now = iter((0.0, 60.0))
    monkeypatch.setattr(hooks_module, "clock", lambda: next(now))
    seen, lines = [], []
    Pace("Classification").hooks(Hooks(progress=seen.append, log=lines.append)).progress(0.5)
    assert (seen, lines) == ([0.5], ["Classification: about 1 min 00 s left at the pace so far "
                                     "(50 % of the pixels in 1 min 00 s)."])


def test_a_resumed_pace_waits_for_1_percent_of_this_run_s_own_work(monkeypatch):
    """Half done before, 0.5 % done in this run: too little to tell the pace from."""
    now = iter((0.0, 60.0))
    monkeypatch.setattr(hooks_module, "clock", lambda: next(now))
    lines = []
    Pace("Fine-tuning", "the batches", start=0.5).tick(0.505, Hooks(log=lines.append))
    assert lines == []


def test_the_cancelling_signals_are_those_of_kill_a_closed_terminal_slurm_and_the_cpu_limit():
    """SIGHUP (a closed terminal), SIGUSR1/2 (Slurm) and SIGXCPU (ulimit -t) each stop a run as on Cancel."""
    assert [signal.Signals(number).name for number in CANCELLING_SIGNALS] == [
        "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGXCPU"]


@pytest.fixture
def killed(monkeypatch):
    """The signals the handler would end the process with; SIGHUP and SIGXCPU handled as by default meanwhile."""
    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, number: sent.append(number))
    previous = {number: signal.getsignal(number) for number in (signal.SIGHUP, signal.SIGXCPU)}
    for number in previous:
        signal.signal(number, signal.SIG_DFL)
    yield sent
    for number, handler in previous.items():
        signal.signal(number, handler)


def test_sigxcpu_repeated_by_the_system_is_not_a_second_request_and_sighup_is_handled(killed):
    """SIGXCPU comes each CPU second past the soft limit: its repeats must not end the run at once."""
    lines = []
    with cancel_on_sigterm(Hooks(log=lines.append)) as hooks:
        assert signal.getsignal(signal.SIGHUP) is signal.getsignal(signal.SIGTERM)
        handler = signal.getsignal(signal.SIGXCPU)
        handler(signal.SIGXCPU, None)
        handler(signal.SIGXCPU, None)
        assert hooks.is_canceled() and killed == []
    assert lines == ["SIGXCPU received: stopping as on Cancel (the CPU-time limit's; the system kills the run at its "
                     "hard limit).", "SIGXCPU came once the work was done: its outputs are written whole and kept."]


def test_a_second_signal_ends_the_process_by_the_default_action_and_a_cancel_of_the_caller_still_counts(killed):
    """The second SIGHUP must end the process (its handler reset to the default before it is sent again); the
    caller's own Cancel is honoured under the signal handlers too."""
    with cancel_on_sigterm(Hooks(is_canceled=lambda: True)) as hooks:
        assert hooks.is_canceled()
        handler = signal.getsignal(signal.SIGHUP)
        handler(signal.SIGHUP, None)
        handler(signal.SIGHUP, None)
        assert killed == [signal.SIGHUP] and signal.getsignal(signal.SIGHUP) is signal.SIG_DFL


def test_a_signal_after_another_kind_is_said_to_come_after_it_not_again(killed):
    """SIGXCPU (the soft CPU limit), then one SIGTERM: the log said 'SIGTERM received again', a SIGTERM it never had
    (a bug the audit found)."""
    lines = []
    with cancel_on_sigterm(Hooks(log=lines.append)):
        signal.getsignal(signal.SIGXCPU)(signal.SIGXCPU, None)
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
    assert lines[1] == "SIGTERM received after SIGXCPU: stopping at once (exit status 143)."
    assert killed == [signal.SIGTERM]


def test_a_run_stopped_by_a_signal_under_torchrun_says_what_torchrun_s_sigterm_may_mean(killed, monkeypatch):
    """Under torchrun a SIGTERM may come as another process ended: the message says to read that one's."""
    from model_core.errors import Canceled

    monkeypatch.setattr(hooks_module, "launched", lambda: True)
    with pytest.raises(Canceled) as stopped, cancel_on_sigterm(Hooks()):
        signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        raise Canceled()
    assert str(stopped.value) == ("Stopped by SIGTERM, as on Cancel (torchrun sends it to every process when the run "
                                  "is stopped, and when another of its processes has ended: that one's message says "
                                  "why).")


def test_in_a_worker_thread_the_signals_are_left_as_they_are_and_the_hooks_unchanged():
    """QGIS desktop runs algorithms in a worker thread, where Python refuses to set a signal's handler."""
    import threading

    from model_core.hooks import signals_handled

    given, seen = Hooks(), []

    def work():
        with cancel_on_sigterm(given) as hooks, signals_handled(CANCELLING_SIGNALS, signal.SIG_IGN):
            seen.append((hooks is given, signal.getsignal(signal.SIGTERM)))

    before = signal.getsignal(signal.SIGTERM)
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [(True, before)]


# ------------------------------------------------------------------------------------------ errors

def test_a_failed_allocation_is_known_by_either_allocator_s_words_in_any_case():
    """torch's CPU allocator says "can't allocate memory", a GPU "out of memory"; neither is said otherwise."""
    from model_core.errors import says_out_of_memory

    assert [says_out_of_memory(RuntimeError(text)) for text in (
        "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: you tried to allocate 1",
        "CUDA Out Of Memory. Tried to allocate 2.00 GiB", "Expected all tensors to be on the same device")] == [
        True, True, False]


def test_the_first_line_of_an_error_is_stripped_named_by_its_type_when_empty_and_shortened_to_200():
    """What a sentence quotes of a library's error: its first line, or its type's name, at most 200 characters."""
    from model_core.errors import first_line

    assert first_line(OSError("\n  disk full  \nerrno 28")) == "disk full"
    assert first_line(KeyError()) == "KeyError"
    long = first_line(ValueError(" ".join(["word"] * 60)))
    assert len(long) <= 200 and long.endswith("word ...") and len(long) > 190
    path = "/home/ana/" + "x" * 250 + "/scene.tif"  # textwrap.shorten quoted '...' alone (a bug the audit found)
    assert first_line(OSError(f"{path}: No such file or directory")) == path[:196] + " ..."
    assert first_line(" ".join(["w"] * 10 + ["x" * 300])) == " ".join(["w"] * 10) + " " + "x" * 176 + " ..."


def test_a_band_count_error_keeps_the_model_s_and_the_layers_counts_apart():
    """`expected` is the model's (HSI, SAR/LiDAR) band counts, `given` the layers'."""
    from model_core.errors import BandCountError, ModelFileError

    error = BandCountError("other bands", expected=[63, 2], given=(65, 1))
    assert (error.expected, error.given, str(error)) == ((63, 2), (65, 1), "other bands")
    assert isinstance(error, ModelFileError)


def test_the_kinds_of_errors_are_caught_by_their_family():
    """A changed file is a read error, an input error and the project's; a cancel is not an input error."""
    from model_core.errors import Canceled, ChangedFileError, InputError, MrsError, ReadError

    changed = ChangedFileError("changed")
    assert isinstance(changed, ReadError) and isinstance(changed, InputError) and changed.voted is False
    assert not isinstance(Canceled(), InputError) and isinstance(Canceled(), MrsError)
    assert (str(Canceled()), Canceled().voted) == ("Canceled by the user.", False)


@pytest.mark.parametrize("own, said", [(True, "Canceled by the user."),
                                       (False, "Stopped as another process of this torchrun run was stopped (its "
                                               "message says why).")])
def test_a_process_stopped_with_the_others_says_who_was_stopped_and_that_they_voted(own, said):
    """Every process of a torchrun run stops with the vote; only one canceled itself says 'by the user'."""
    from model_core.errors import canceled_with_the_others

    stopped = canceled_with_the_others(own)
    assert (str(stopped), stopped.voted) == (said, True)


# ------------------------------------------------------------------------------------------ digits

@pytest.mark.parametrize("text, signed, number", [
    ("3", True, 3), ("-1", True, -1), ("+2", True, 2), ("+2", False, None), ("-1", False, None), ("12", False, 12),
    ("1_0", True, None), ("²", True, None), ("٣", True, None), (" 3", True, None), ("3 ", True, None),
    ("3a", True, None), ("", True, None), ("+", True, None),
])
def test_a_whole_number_is_written_in_ascii_digits_with_a_sign_only_where_signed(text, signed, number):
    """Not int()'s '1_0' nor other scripts' digits, nor blanks; a sign only where the number may have one."""
    from model_core.digits import whole_number

    assert whole_number(text, signed) == number
    assert not signed or whole_number(text) == number  # signed unless told


# ------------------------------------------------------------------------------------------ heap

class FakeGlibc:
    """glibc's mallopt and malloc_trim, recording their calls."""

    def __init__(self):
        self.calls = []

    def mallopt(self, option, value):
        self.calls.append(("mallopt", option, value))

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))


@pytest.mark.parametrize("fails", [False, True])
def test_the_heap_is_kept_during_the_work_and_given_back_after_it_even_when_it_fails(monkeypatch, fails):
    """mmap threshold 32 MiB and trim threshold 1 GiB for the work; after it, 64 MiB and a trim."""
    from model_core import heap

    library = FakeGlibc()
    monkeypatch.setattr(heap, "_glibc", lambda: library)
    with pytest.raises(RuntimeError) if fails else contextlib.nullcontext():
        with heap.reusing_freed_memory():
            assert library.calls == [("mallopt", -3, 32 * 2 ** 20), ("mallopt", -1, 2 ** 30)]
            if fails:
                raise RuntimeError("the work failed")
    assert library.calls[2:] == [("mallopt", -1, 64 * 2 ** 20), ("malloc_trim", 0)]


# ------------------------------------------------------------------------------------------ BLAS buffer

def test_a_limit_without_room_for_the_blas_buffer_is_said_in_mib(monkeypatch):
    """The sentence gives the limit as ulimit -v reads in MiB, and the buffer's 129 MiB."""
    from mrs.model_core.errors import OutOfMemory
    from mrs.mrs_qgis_plugin import blas

    def no_room(*_args):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(blas, "resource", SimpleNamespace(RLIMIT_AS=9, RLIM_INFINITY=-1,
                                                          getrlimit=lambda _kind: (900_000 << 10, -1)))
    monkeypatch.setattr(blas, "mmap", SimpleNamespace(mmap=no_room))
    with pytest.raises(OutOfMemory) as refused:
        blas.hold_blas_buffer()
    assert str(refused.value) == ("Not enough memory for this run: the limit set on this process's memory (ulimit "
                                  "-v, 878 MiB) leaves no room for the 129 MiB buffer of numpy's matrix products; "
                                  "raise it.")


# ------------------------------------------------------------------------------------------ pretraining positions

@pytest.fixture
def sparse(tmp_path):
    """test_raster_samples' sparse scene: 64 x 64 pixels in 16 blocks of 16, data in one block only."""
    from test_raster_samples import sparse_raster

    from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene

    with Scene.open(RasterInput(sparse_raster(tmp_path), "sparse"), []) as scene:
        yield scene


@pytest.mark.parametrize("many, masked, said", [
    (0, False, "Sample positions are drawn from every valid pixel: the 1 of the 16 blocks of 16 x 16 pixels that may "
               "hold data are read once, as the progress shows."),
    (0, True, "Sample positions are drawn from every valid pixel: all 16 blocks of 16 x 16 pixels are read once, as "
              "the progress shows."),
    (1, False, None),  # the one block read is not many, though the scene has 16
])
def test_the_many_blocks_line_counts_the_blocks_read(tmp_path, sparse, monkeypatch, many, masked, said):
    """Blocks GDAL knows to be empty are passed over, but under a mask, where all are read."""
    from rasters import ORIGIN_X, ORIGIN_Y, box_wkt, write_vector

    from mrs.mrs_qgis_plugin.raster import samples

    monkeypatch.setattr(samples, "MANY_BLOCKS", many)
    mask = write_vector(tmp_path / "mask.gpkg", [(box_wkt(ORIGIN_X, ORIGIN_Y - 64, ORIGIN_X + 64, ORIGIN_Y), {})],
                        {}) if masked else None
    lines = []
    samples.random_valid_positions(sparse, 10, 0, Hooks(log=lines.append), mask_path=mask, tile_size=16)
    assert [line for line in lines if line.startswith("Sample positions")] == ([said] if said else [])


def _scenes(tmp_path):
    import numpy as np
    from rasters import write_raster

    from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene

    values = np.ones((3, 16, 16), np.float32)
    return [Scene.open(RasterInput(write_raster(tmp_path / f"{name}.tif", values, nodata=-9999), name), [])
            for name in ("a", "b")]


def test_each_scene_moves_its_own_share_of_the_progress(tmp_path):
    """Two scenes of 4 blocks: the first's blocks fill the bar's first half, the second's the rest."""
    from mrs.mrs_qgis_plugin.raster.samples import random_positions_in_scenes

    first, second = _scenes(tmp_path)
    with first, second:
        progress = []
        random_positions_in_scenes([first, second], 10, 0, Hooks(progress=progress.append), tile_size=8)
    assert progress == [n / 8 for n in range(1, 9)]


def test_a_mask_over_pixels_outside_the_extent_is_said_to_cover_none_in_the_extent_by_its_name(tmp_path):
    """The mask's layer name, not its path, and 'in the extent' with the advice to choose an overlapping extent."""
    from rasters import ORIGIN_X, ORIGIN_Y, box_wkt, write_vector

    from mrs.model_core.errors import InputError
    from mrs.mrs_qgis_plugin.raster.grid import Window
    from mrs.mrs_qgis_plugin.raster.samples import random_valid_positions

    mask = write_vector(tmp_path / "mask.gpkg", [(box_wkt(ORIGIN_X, ORIGIN_Y - 2, ORIGIN_X + 2, ORIGIN_Y), {})], {})
    first, second = _scenes(tmp_path)
    with first, second, pytest.raises(InputError) as refused:
        random_valid_positions(first, 10, 0, window=Window(8, 8, 8, 8), mask_path=mask, mask_name="zone")
    assert str(refused.value) == ("MASK: the polygons of 'zone' cover no pixel of the hyperspectral layer 'a' in the "
                                  "extent. Choose polygons over the scene (and check their CRS), or an extent that "
                                  "overlaps them.")


# ------------------------------------------------------------------------------------------ installer dialog

@pytest.fixture
def dialog(qgis_app, tmp_path, monkeypatch):
    """The installer's dialog for two packages this Python cannot import, its tasks given to a list, not run."""
    from mrs.mrs_qgis_plugin import installer_dialog
    from mrs.mrs_qgis_plugin.dependencies import packages_folder

    added = []
    monkeypatch.setattr(installer_dialog, "QgsApplication", SimpleNamespace(
        taskManager=lambda: SimpleNamespace(addTask=added.append)))
    shown = installer_dialog.InstallerDialog(packages_folder(str(tmp_path / "profile")),
                                             requirements=["mrsabsent==0.1", "mrsmissing==0.2"], gpus=[])
    shown.added = added
    yield shown
    shown.close()


def test_the_dialog_names_its_packages_python_and_title_and_waits_for_install(dialog):
    """The packages as a list, the Python of QGIS pip runs with, the title; Stop only once installing."""
    from qgis.PyQt.QtWidgets import QLabel

    from mrs.mrs_qgis_plugin.dependencies import python_executable

    texts = [label.text() for label in dialog.findChildren(QLabel)]
    assert "mrsabsent==0.1, mrsmissing==0.2" in texts and python_executable() in texts
    assert dialog.windowTitle() == "MRS land cover: install Python packages"
    assert (dialog.install_button.isEnabled(), dialog.cancel_button.isEnabled()) == (True, False)
    dialog.stop()  # nothing to stop yet


def test_the_command_follows_the_build_chosen_after_the_dialog_opened(dialog):
    """Choosing the CUDA build in the list changes the command shown, which is what Install runs."""
    assert "/whl/cpu" in dialog.command.text()
    dialog.build.setCurrentIndex(1)
    assert dialog.chosen_build() == "cuda" and "/whl/cu" in dialog.command.text()
    assert "/whl/cpu" not in dialog.command.text()


def test_the_dialog_shows_pip_s_lines_and_progress_and_forgets_its_task_when_done(dialog):
    """pip's lines go to the log and its stages to the bar; once done, the dialog holds no task."""
    dialog.start()
    [task] = dialog.added
    task.line.emit("Collecting mrsabsent==0.1")
    task.setProgress(42.7)
    assert (dialog.log.toPlainText(), dialog.progress.value()) == ("Collecting mrsabsent==0.1", 42)
    dialog.finish(True, "Installed.")
    assert dialog.task is None and dialog.result.text() == (
        "Installed. They cannot be imported in this session yet (mrsabsent==0.1: not installed; mrsmissing==0.2: not "
        "installed); restart QGIS.")


# ------------------------------------------------------------------------------------------ plugin

@pytest.fixture
def plugin(qgis_processing, qgis_iface, monkeypatch):
    """The plugin as QGIS desktop loads it, with torch said missing; unloaded afterwards."""
    import mrs
    from mrs.mrs_qgis_plugin import plugin as plugin_module

    monkeypatch.setattr(plugin_module, "not_usable", lambda requirements: ["torch==2.13.0", "safetensors==0.8.0",
                                                                           "numpy==2.0"])
    qgis_iface.messageBar().clearWidgets()
    loaded = mrs.classFactory(qgis_iface)
    loaded.initGui()
    yield loaded
    loaded.unload()
    qgis_iface.messageBar().clearWidgets()


def test_the_offer_names_three_packages_and_help_opens_the_local_page(plugin, qgis_iface, monkeypatch):
    """'a, b and c' in the bar; Help opens the plugin's own page as a local file."""
    from mrs.algorithms.base import HELP_PAGE
    from mrs.mrs_qgis_plugin import plugin as plugin_module

    assert qgis_iface.messageBar().currentItem().text() == "Training and mapping need torch, safetensors and numpy."
    opened = []
    monkeypatch.setattr(plugin_module.QDesktopServices, "openUrl", opened.append)
    plugin.show_help()
    [url] = opened
    assert (url.scheme(), url.toLocalFile()) == ("file", HELP_PAGE)


def test_about_gives_the_licence_and_the_installer_belongs_to_the_main_window(plugin, qgis_iface, monkeypatch):
    """The licence the LICENSE file holds; the installer a child of QGIS's window, not a window of its own."""
    from mrs.mrs_qgis_plugin import plugin as plugin_module

    about = []
    monkeypatch.setattr(plugin_module.QMessageBox, "about", lambda parent, title, text: about.append(text))
    plugin.show_about()
    licence = "<p>Licence: GNU General Public License, version 2 or later (the LICENSE file of the plugin).</p>"
    assert licence in about[0]
    plugin.show_installer()
    assert plugin.installer.parent() is qgis_iface.mainWindow()


def test_an_offer_withdrawn_once_leaves_a_later_message_of_another_plugin(plugin, qgis_iface):
    """Withdrawing twice (the packages imported, then the plugin unloaded) pops only the plugin's own offer."""
    from qgis.core import Qgis

    plugin.withdraw_offer()
    bar = qgis_iface.messageBar()
    bar.pushWidget(bar.createMessage("Another plugin", "its own message"), Qgis.Warning)
    plugin.withdraw_offer()
    assert bar.currentItem().text() == "its own message" and plugin.missing_message is None


def test_an_offer_the_analyst_closed_neither_stops_the_unload_nor_the_installer_s_withdrawal(plugin, qgis_iface):
    """QGIS deletes the offer its close button pops: withdrawing it raised 'wrapped C/C++ object ... has been
    deleted', which stopped the unload before the provider was removed (a bug the audit found)."""
    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QCoreApplication, QEvent

    bar = qgis_iface.messageBar()
    bar.popWidget(bar.currentItem())
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    plugin.withdraw_offer()
    assert plugin.missing_message is None
    plugin.missing_message = bar.createMessage("gone")
    plugin.missing_message.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    plugin.unload()
    assert QgsApplication.processingRegistry().providerById("mrs") is None


def test_the_installer_reopened_while_its_pip_runs_is_the_same_dialog_and_a_new_one_after(plugin):
    """Closed during an install and opened again from the menu, the installer was a new dialog offering Install, whose
    second pip would write into the same folder (noticed by the audit)."""
    plugin.show_installer()
    first = plugin.installer
    first.task = object()  # pip running
    first.close()
    plugin.show_installer()
    assert plugin.installer is first and first.isVisible()
    first.task = None  # pip done
    plugin.show_installer()
    assert plugin.installer is not first


# ------------------------------------------------------------------------------------------ device list

@pytest.fixture
def device(provider):
    """The DEVICE list of mrs:classify's dialog."""
    from processing.gui.wrappers import WidgetWrapperFactory
    from qgis.PyQt.QtWidgets import QWidget

    parameter = provider.algorithm("classify").parameterDefinition("DEVICE")
    return WidgetWrapperFactory.create_wrapper(parameter, QWidget())


def test_the_device_list_shows_auto_for_no_value_and_a_typed_device_without_blanks(device):
    """No value (a model's or a fresh dialog's) is auto, shown by its label; a device typed is taken stripped."""
    device.setValue("cpu")
    device.setValue(None)
    assert (device.value(), device.widget.currentText()) == ("auto", device.widget.itemText(0))
    device.setValue("cpu")
    device.setValue("auto")
    assert device.widget.currentText().startswith("auto: ")
    device.widget.setEditText(" cuda:1 ")
    assert device.value() == "cuda:1"


def test_the_device_list_carries_the_parameter_s_help_and_lists_the_gpus_it_is_given(device):
    """The list's tooltip is DEVICE's help; the GPUs given (nvidia-smi's) are offered as cuda:N by name."""
    combo = device.createWidget(gpus=["NVIDIA RTX A4000, 16376 MiB"])
    assert combo.toolTip() == device.parameterDefinition().help() and len(combo.toolTip()) > 20
    assert [combo.itemData(index) for index in range(combo.count())] == ["auto", "cpu", "cuda:0"]
    assert combo.itemText(2) == "cuda:0: NVIDIA RTX A4000, 16376 MiB"


# ------------------------------------------------------------------------------------------ provider

def test_the_provider_names_itself_with_its_version_and_writes_geotiffs(provider):
    """The Toolbox's names, the plugin's version, and .tif as the raster outputs' extension."""
    from mrs.model_core import __version__

    assert (provider.name(), provider.longName(), provider.versionInfo()) == (
        "MRS land cover (SS-MAE)", f"MRS land cover (SS-MAE) {__version__}", __version__)
    assert __version__ and provider.supportedOutputRasterLayerExtensions() == ["tif"]
    assert provider.supportedOutputVectorLayerExtensions() == ["gpkg"]


def test_another_provider_registered_leaves_the_workflow_alone(provider, monkeypatch):
    """Only this provider's registration reloads the workflow's model."""
    loads = []
    monkeypatch.setattr(type(provider.algorithm("workflow")), "load", lambda self, **kwargs: loads.append(kwargs))
    provider._registered("gdal")
    assert loads == []


@pytest.mark.parametrize("words, runs", [
    (["run", "mrsother:classify"], False),  # another provider whose id begins as ours
    (["run", "model:x"], False),  # no models folder: a model in the working folder is not the profile's
    (["run", "{folder}/input.model3"], False),  # 'mrs:' in another option's value
])
def test_a_command_line_is_ours_only_by_an_algorithm_id_of_this_provider(tmp_path, monkeypatch, words, runs):
    """A provider named 'mrsother', a model outside the profile, or 'mrs:' in a model's input are not ours."""
    from mrs.mrs_qgis_plugin.provider import runs_own_algorithm

    (tmp_path / "x.model3").write_text('<Option><Option name="alg_id" value="mrs:classify"/>'
                                       '<Option name="model_name" value="x"/></Option>')
    (tmp_path / "input.model3").write_text('<Option><Option name="alg_id" value="native:buffer"/>'
                                           '<Option name="default" value="mrs:map.png"/></Option>')
    monkeypatch.chdir(tmp_path)
    arguments = ["/usr/bin/qgis_process.bin", *(word.format(folder=tmp_path) for word in words)]
    assert runs_own_algorithm(arguments, "mrs", "") is runs


@pytest.mark.parametrize("rows, said", [(32, False), (33, True)])
def test_the_many_blocks_line_comes_past_1024_blocks(tmp_path, rows, said):
    """1,024 blocks of 1 x 1 pixel are read unsaid; 1,056 are said."""
    import numpy as np
    from rasters import write_raster

    from mrs.mrs_qgis_plugin.raster.samples import random_valid_positions
    from mrs.mrs_qgis_plugin.raster.sources import RasterInput, Scene

    lines = []
    path = write_raster(tmp_path / "scene.tif", np.ones((3, rows, 32), np.float32), nodata=-9999)
    with Scene.open(RasterInput(path, "scene"), []) as scene:
        random_valid_positions(scene, 5, 0, Hooks(log=lines.append), tile_size=1)
    assert [line for line in lines if line.startswith("Sample positions")] == (
        [f"Sample positions are drawn from every valid pixel: all {rows * 32:,} blocks of 1 x 1 pixels are read once, "
         "as the progress shows."] if said else [])


# ------------------------------------------------------------------------------------------ choices

def test_the_choices_offered_and_their_defaults(provider):
    """The paper's mask ratio of 0.3, at least 100 pixels for the similarities, the precisions and maskings in order."""
    from model_core.errors import InputError
    from model_core.settings import MaskingSettings

    pretrain, redundancy = provider.algorithm("pretrain"), provider.algorithm("redundancy")
    assert [pretrain.parameterDefinition(name).defaultValue() for name in ("SPECTRAL_RATIO", "SPATIAL_RATIO")] == [
        0.3, 0.3]
    assert (redundancy.parameterDefinition("MASK_RATIO").defaultValue(),
            redundancy.parameterDefinition("SAMPLE_SIZE").minimum()) == (0.3, 100)
    assert provider.algorithm("classify").parameterDefinition("PRECISION").options() == ["auto", "fp32", "bf16"]
    assert pretrain.parameterDefinition("MASKING").options() == ["mrs", "random"]
    with pytest.raises(InputError) as refused:
        MaskingSettings(similarity="dot").validate()
    assert str(refused.value) == "The band similarity must be one of cosine, correlation; got 'dot'."
    assert (MaskingSettings().spectral_ratio, MaskingSettings().spatial_ratio) == (0.3, 0.3)
