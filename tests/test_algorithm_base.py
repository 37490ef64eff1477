"""The shared run-time steps of the algorithms' base class."""

import numpy as np
import pytest
import torch
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback

from mrs.algorithms.base import MrsAlgorithm, hooks_from_feedback
from mrs.model_core.errors import Canceled, InputError
from mrs.mrs_qgis_plugin.job_parameters import CLASSIFY
from mrs.mrs_qgis_plugin.parameters import Job
from mrs.model_core.device import no_gpu_reason, resolve_device
from mrs.model_core.names import plural
from mrs.mrs_qgis_plugin.runs import available_cores, cpu_threads


class RecordingFeedback(QgsProcessingFeedback):
    def __init__(self) -> None:
        super().__init__()
        self.infos = []

    def pushInfo(self, info: str) -> None:  # noqa: N802 - QGIS API name
        self.infos.append(info)


class ScriptedAlgorithm(MrsAlgorithm):
    """An algorithm whose work is given by the test."""

    JOB = Job("scripted", "Scripted", "analysis", "For tests.", (CLASSIFY.parameter("DEVICE"),))

    def __init__(self, work=None) -> None:
        super().__init__()
        self.work = work

    def execute(self, parameters, context, feedback, hooks):
        return self.work(parameters, context, hooks)


def scripted(work) -> ScriptedAlgorithm:
    algorithm = ScriptedAlgorithm(work)
    algorithm.initAlgorithm()
    return algorithm


def device_work(parameters, context, hooks):
    """The device the DEVICE value chooses, as a run reads it."""
    device = ScriptedAlgorithm().value(ScriptedAlgorithm.JOB.parameter("DEVICE"), parameters, context, None)
    return {"DEVICE": str(resolve_device(device))}


def test_hooks_report_progress_in_percent_log_lines_and_cancel():
    feedback = RecordingFeedback()
    hooks = hooks_from_feedback(feedback)
    hooks.sub(0.5, 1.0).progress(0.5)
    assert feedback.progress() == pytest.approx(75.0)
    hooks.log("one line")
    assert feedback.infos == ["one line"]
    hooks.check_cancel()
    feedback.cancel()
    with pytest.raises(Canceled):
        hooks.check_cancel()


def test_an_epoch_s_status_is_not_given_to_qgis_which_logs_it_beside_the_epoch_s_line():
    """A desktop helper of 2026-12-05: QGIS 3.22's dialog logs every progress text, so each epoch
    was said twice ('epoch 109/300, about 10 s left', then its line with the loss): 835 lines for 400."""
    texts = []

    class Feedback(RecordingFeedback):
        def setProgressText(self, text: str) -> None:  # noqa: N802 - QGIS API name
            texts.append(text)

    hooks_from_feedback(Feedback()).status("Fine-tuning epoch 109/300, about 10 s left")
    assert texts == []


def test_desktop_keeps_one_core_free_and_qgis_process_uses_all():
    assert cpu_threads("desktop", 8) == 7
    assert cpu_threads("desktop", 1) == 1
    assert cpu_threads("qgis_process", 8) == 8
    assert cpu_threads("external", 2) == 2


def test_the_run_sets_torch_threads_and_hands_over_hooks_tied_to_the_feedback(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    seen = {}

    def work(parameters, context, hooks):
        seen["threads"] = torch.get_num_threads()
        hooks.progress(0.25)
        return {"DONE": True}

    feedback = RecordingFeedback()
    before = torch.get_num_threads()
    try:
        result = scripted(work).processAlgorithm({}, QgsProcessingContext(), feedback)
    finally:
        torch.set_num_threads(before)
    cores = available_cores()
    expected = cpu_threads(QgsApplication.platform(), cores)
    assert result == {"DONE": True}
    assert seen["threads"] == expected
    assert feedback.progress() == pytest.approx(25.0)
    assert f"CPU threads: {expected} of {cores} cores." in feedback.infos


def test_runs_in_one_qgis_take_torch_in_turn_and_a_waiting_run_can_be_canceled(monkeypatch):
    """Red team of 2026-12-05: two fine-tunings of one SEED run at once as QGIS tasks shared torch's
    global random generator, and each gave another model (85.4 % of a map alike) without a word;
    each also gave the other's random state and threads back at its end. A run in QGIS's main
    thread (the Python console, a batch) does not wait, which would freeze QGIS (review of 2026-12-05)."""
    import threading

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    started, release, order = threading.Event(), threading.Event(), []

    def first(parameters, context, hooks):
        order.append("first starts")
        started.set()
        release.wait(10)
        order.append("first ends")
        return {}

    def second(parameters, context, hooks):
        order.append("second starts")
        return {}

    def in_thread(work, feedback):
        errors = []

        def target():
            try:
                scripted(work).processAlgorithm({}, QgsProcessingContext(), feedback)
            except QgsProcessingException as error:
                errors.append(str(error))

        thread = threading.Thread(target=target)
        thread.start()
        return thread, errors

    waiting, canceled = RecordingFeedback(), RecordingFeedback()
    before = torch.get_num_threads()
    try:
        holder, _errors = in_thread(first, RecordingFeedback())
        assert started.wait(10)
        other, _errors = in_thread(second, waiting)
        other.join(1.0)
        assert order == ["first starts"] and other.is_alive()
        assert waiting.infos[-1] == ("Another run of this plugin is using torch in this QGIS; this one starts when it "
                                     "ends.")
        canceled.cancel()
        stopped, errors = in_thread(second, canceled)
        stopped.join(10)
        assert errors == ["Canceled by the user."]
        with pytest.raises(QgsProcessingException, match=r"^Another run of this plugin is using torch in this QGIS; "
                                                         r"this one, in QGIS's main thread \(the Python console, a "
                                                         r"batch\), cannot wait for it without holding QGIS up: run it "
                                                         r"when the other ends\.$"):
            scripted(second).processAlgorithm({}, QgsProcessingContext(), RecordingFeedback())
        release.set()
        holder.join(10)
        other.join(10)
        assert order == ["first starts", "first ends", "second starts"]
    finally:
        release.set()
        torch.set_num_threads(before)


def test_a_run_is_refused_an_output_another_run_of_this_qgis_claims_running_or_waiting(tmp_path, monkeypatch):
    """A desktop helper of 2026-12-05: two fine-tune dialogs proposed one model file; the second
    waited for the first, then wrote over its model without a word. The claim leaves no file beside
    the output, which the first run's own check took for another run's (review of 2026-12-05)."""
    import threading

    from mrs.model_core.atomic import remove_stale_temporaries

    class Writing(ScriptedAlgorithm):
        JOB = Job("scripted", "Scripted", "analysis", "For tests.",
                  (CLASSIFY.parameter("DEVICE"), CLASSIFY.parameter("OUTPUT")))

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    taken, other = str(tmp_path / "taken.tif"), str(tmp_path / "other.tif")
    started, release = threading.Event(), threading.Event()

    def first(parameters, context, hooks):
        started.set()
        release.wait(10)
        assert not remove_stale_temporaries(taken)  # nothing beside it that the job would take for another run
        return {"DONE": True}

    def in_thread(output, work, errors, results):
        def target():
            algorithm = Writing(work)
            algorithm.initAlgorithm()
            try:
                results.append(algorithm.processAlgorithm({"OUTPUT": output}, QgsProcessingContext(),
                                                          RecordingFeedback()))
            except QgsProcessingException as error:
                errors.append(str(error))

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    before = torch.get_num_threads()
    errors, results = [], []
    try:
        holder = in_thread(taken, first, errors, results)
        assert started.wait(10)
        queued = in_thread(other, lambda *_: {"DONE": "other"}, errors, results)
        queued.join(1.0)
        assert queued.is_alive()  # waiting for torch, its output claimed
        for output in (taken, other):
            in_thread(output, lambda *_: {}, errors, results).join(10)
        assert errors == [f"OUTPUT: {path} is being written by another run now; wait until it has ended, or choose "
                          "another output file name." for path in (taken, other)]
        release.set()
        holder.join(10)
        queued.join(10)
        assert sorted(map(str, results)) == ["{'DONE': 'other'}", "{'DONE': True}"]  # in either order
        in_thread(taken, lambda *_: {"DONE": "again"}, errors, results).join(10)  # the claims ended with the runs
        assert results[-1] == {"DONE": "again"} and len(errors) == 2
    finally:
        release.set()
        torch.set_num_threads(before)


def test_project_errors_become_processing_errors_with_the_same_message():
    message = "INPUT_HSI 'scene' has no valid pixel; choose another raster."

    def work(parameters, context, hooks):
        raise InputError(message)

    with pytest.raises(QgsProcessingException) as raised:
        scripted(work).processAlgorithm({}, QgsProcessingContext(), QgsProcessingFeedback())
    assert str(raised.value) == message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_run_out_of_memory_is_one_sentence(monkeypatch):
    """Red team of 2026-12-05: under a memory limit (ulimit -v) numpy's 'Unable to allocate 1.74 GiB'
    came as a traceback, in QGIS as the whole traceback in the error's text."""
    from mrs.model_core.errors import OutOfMemory
    from mrs.mrs_qgis_plugin import runs

    def short(values, hooks):
        np.zeros(1 << 62, np.uint8)

    monkeypatch.setitem(runs.RUNNERS, "classify", short)
    with pytest.raises(OutOfMemory) as raised:
        runs.run("classify", {}, None)
    assert str(raised.value).startswith("Not enough memory for this run (Unable to allocate 4.00 EiB for an array ")
    assert str(raised.value).endswith("): lower TILE_SIZE or BATCH_SIZE, close other programs, or raise a limit set "
                                      "on this process's memory (ulimit -v).")
    monkeypatch.setitem(runs.RUNNERS, "redundancy", short)  # each job's own parameters (review of 2026-12-05)
    with pytest.raises(OutOfMemory, match=r"\): lower SAMPLE_SIZE, close other programs"):
        runs.run("redundancy", {}, None)
    monkeypatch.setitem(runs.RUNNERS, "accuracy", short)
    with pytest.raises(OutOfMemory, match=r"\): close other programs"):
        runs.run("accuracy", {}, None)

    def torch_short(values, hooks):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:118] DefaultCPUAllocator: can't allocate memory: you tried "
                           "to allocate 1879048192 bytes.")

    monkeypatch.setitem(runs.RUNNERS, "classify", torch_short)
    with pytest.raises(OutOfMemory, match=r"^Not enough memory for this run \(\[enforce fail"):
        runs.run("classify", {}, None)

    def gpu_short(values, hooks):  # torch.OutOfMemoryError, a RuntimeError (a helper's review of 2026-12-06)
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
                                     "79.19 GiB of which 1.10 GiB is free.")

    monkeypatch.setitem(runs.RUNNERS, "pretrain", gpu_short)
    with pytest.raises(OutOfMemory) as raised:
        runs.run("pretrain", {}, None)
    assert str(raised.value) == (
        "Not enough GPU memory for this run (CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
        "capacity of 79.19 GiB of which 1.10 GiB is free.): lower BATCH_SIZE, run on a GPU with more free memory "
        "(DEVICE), or on the CPU (DEVICE cpu).")
    monkeypatch.setitem(runs.RUNNERS, "classify", lambda values, hooks: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # other errors are not disguised
        runs.run("classify", {}, None)


def test_other_errors_are_not_disguised():
    def work(parameters, context, hooks):
        raise ZeroDivisionError("a bug")

    with pytest.raises(ZeroDivisionError):
        scripted(work).processAlgorithm({}, QgsProcessingContext(), QgsProcessingFeedback())


def test_the_logs_first_line_says_which_device_is_used_and_why():
    algorithm = scripted(device_work)
    feedback = RecordingFeedback()
    result = algorithm.processAlgorithm({"DEVICE": "cpu"}, QgsProcessingContext(), feedback)
    assert result == {"DEVICE": "cpu"}
    assert feedback.infos[0] == f"Device: cpu ({plural(torch.get_num_threads(), 'thread')}), as DEVICE asks."
    assert feedback.infos[1].startswith("CPU threads: ")

    feedback = RecordingFeedback()
    result = algorithm.processAlgorithm({"DEVICE": "auto"}, QgsProcessingContext(), feedback)
    if torch.cuda.is_available():
        assert result == {"DEVICE": "cuda"}
        assert feedback.infos[0].startswith("Device: cuda (") and ", chosen by DEVICE auto: the first of the " in feedback.infos[0]
    else:
        assert result == {"DEVICE": "cpu"}
        assert feedback.infos[0] == (f"Device: cpu ({plural(torch.get_num_threads(), 'thread')}), chosen by DEVICE auto "
                                     f"because {no_gpu_reason()} (torch {torch.__version__}).")


def test_a_missing_gpu_is_a_processing_error_naming_the_device():
    algorithm = scripted(device_work)
    with pytest.raises(QgsProcessingException, match="cuda:99"):
        algorithm.processAlgorithm({"DEVICE": "cuda:99"}, QgsProcessingContext(), QgsProcessingFeedback())


def test_unknown_names_get_offers_only_where_they_are_meant():
    """A mutation audit of 2026-12-06: a name with a step's prefix where the algorithm has no steps is
    no parameter of it, and a name of under four letters is offered no names that hold it."""
    from mrs.mrs_qgis_plugin.parameters import meant_text, unknown_parameter_problem

    assert unknown_parameter_problem(["foo:BAR"], ["INPUT_HSI", "OUTPUT"], "mrs:classify") == (
        "foo:BAR: mrs:classify has no parameter of that name; 'qgis_process help mrs:classify' lists its parameters.")
    assert meant_text("T", ["TILE_SIZE", "OUTPUT", "INPUT_HSI"]) == ""
    assert meant_text("EPOCHS", ["PRETRAIN_EPOCHS", "FINETUNE_EPOCHS", "SEED"]) == (
        " (did you mean PRETRAIN_EPOCHS or FINETUNE_EPOCHS?)")


def test_a_fine_tuning_out_of_the_cpu_s_memory_is_told_to_label_fewer_pixels(monkeypatch):
    """A mutation audit of 2026-12-06: the advice of labelling fewer pixels is the CPU's, not a GPU's."""
    from mrs.model_core.errors import OutOfMemory
    from mrs.mrs_qgis_plugin import runs

    def short(values, hooks):
        raise MemoryError("Unable to allocate 4.00 GiB")

    monkeypatch.setitem(runs.RUNNERS, "finetune", short)
    with pytest.raises(OutOfMemory, match=r"\): label fewer pixels \(their patches are held in memory\), lower "):
        runs.run("finetune", {}, None)
