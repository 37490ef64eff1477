"""The styles given to the layers Processing loads (styling) and the model files' format and messages (model_file),
each pinned where a second mutation audit (2026-12-07) planted a change no test saw."""

import json
import re
import struct

import numpy as np
import pytest
import torch
from processing_helpers import RecordingFeedback
from rasters import write_raster

from mrs.model_core import __version__, model_file
from mrs.model_core.errors import ModelFileError
from mrs.mrs_qgis_plugin import styling
from mrs.mrs_qgis_plugin.raster.classes import ClassInfo


# styling -------------------------------------------------------------------------------------

def _to_load(path):
    """A context that loads `path` on completion."""
    from qgis.core import QgsProcessingContext, QgsProject

    context = QgsProcessingContext()
    context.addLayerToLoadOnCompletion(path, QgsProcessingContext.LayerDetails("Land-cover map", QgsProject.instance()))
    return context


def test_a_loaded_raster_is_read_again_styled_by_its_sidecar_and_its_post_processor_let_go(qgis_app, tmp_path):
    """The layer re-reads a file written over since it was opened, takes its .qml without a word, and the
    post-processor kept alive for Processing is released once run."""
    from qgis.core import QgsRasterLayer

    path = write_raster(tmp_path / "map.tif", np.ones((4, 4), np.uint8))
    layer = QgsRasterLayer(path, "Land-cover map")
    layer.setOpacity(0.25)
    layer.saveNamedStyle(str(tmp_path / "map.qml"))
    layer = QgsRasterLayer(path, "Land-cover map")
    write_raster(path, np.full((4, 4), 7, np.uint8))  # the file written over after the layer opened it
    context = _to_load(path)
    assert styling.style_when_loaded(context, path)
    processor = context.layerToLoadOnCompletionDetails(path).postProcessor()
    assert processor in styling._PENDING
    feedback = RecordingFeedback()
    processor.postProcessLayer(layer, context, feedback)
    assert feedback.errors == [] and layer.opacity() == 0.25
    assert layer.dataProvider().sample(layer.extent().center(), 1) == (7.0, True)
    assert processor not in styling._PENDING


@pytest.mark.parametrize("problem, repainted", [("", 1), ("no style for '{}'", 0)])
def test_the_styler_given_is_applied_its_problem_said_and_the_layer_repainted_once_styled(qgis_app, tmp_path,
                                                                                        problem, repainted):
    """A styler given replaces the .qml sidecar; what it says it could not do is reported as an error, and only a
    layer it styled is repainted."""
    from qgis.core import QgsRasterLayer

    path = write_raster(tmp_path / "map.tif", np.ones((4, 4), np.uint8))
    context = _to_load(path)
    assert styling.style_when_loaded(context, path, lambda layer: problem.format(layer.name()))
    feedback = RecordingFeedback()
    layer = QgsRasterLayer(path, "Land-cover map")
    repaints = []
    layer.repaintRequested.connect(lambda *args: repaints.append(args))
    context.layerToLoadOnCompletionDetails(path).postProcessor().postProcessLayer(layer, context, feedback)
    assert feedback.errors == ([problem.format("Land-cover map")] if problem else [])
    assert len(repaints) == repainted


@pytest.mark.parametrize("path", ["", "map.tif"])
def test_a_file_processing_will_not_load_gets_no_post_processor(qgis_app, tmp_path, path):
    """No path, or one Processing does not load (qgis_process, a plain file output): False, nothing kept alive."""
    from qgis.core import QgsProcessingContext

    pending = list(styling._PENDING)
    assert styling.style_when_loaded(QgsProcessingContext(), str(tmp_path / path) if path else "") is False
    assert styling._PENDING == pending


def test_a_loaded_output_is_named_after_its_whole_file_name_but_its_extension(qgis_app, tmp_path):
    """A file name with dots in it loses only its extension."""
    path = str(tmp_path / "landcover.2026-12.v2.tif")
    context = _to_load(path)
    styling.name_after_file(context, path, "Land-cover map")
    assert context.layerToLoadOnCompletionDetails(path).name == "Land-cover map (landcover.2026-12.v2)"


def test_suggested_points_are_open_magenta_circles_with_rank_labels_in_magenta_on_white(qgis_app):
    """The symbol's shape, size and stroke, and the labels' place, size, colour and white buffer."""
    from qgis.core import QgsPalLayerSettings, QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:32632&field=mrs_rank:integer", "suggestions", "memory")
    styling.suggestion_style(layer)
    marker = layer.renderer().symbol().symbolLayer(0)
    assert (marker.shape(), marker.size(), marker.strokeWidth(), marker.color().alpha(), marker.strokeColor().name()) \
        == (marker.Circle, 4, 0.8, 0, "#e6007e")
    settings = layer.labeling().settings()
    text = settings.format()
    assert (settings.fieldName, settings.placement, text.size(), text.color().name()) == (
        "mrs_rank", QgsPalLayerSettings.AroundPoint, 9, "#e6007e")  # mrs_rank the layer's first field
    assert text.buffer().enabled() and text.buffer().color().name() == "#ffffff"


def test_class_points_are_categorised_by_their_field_with_each_class_s_name_and_colour(qgis_app):
    """One category per class, by the field given: its value, its name as the legend's label, its colour filling
    a small circle ringed in white."""
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer("Point?crs=EPSG:32632&field=label:integer", "samples", "memory")
    classes = [ClassInfo(1, "Forest", "#1b7837"), ClassInfo(3, "Water", "#2166ac")]
    assert styling.class_points_style("label", classes)(layer) == ""
    renderer = layer.renderer()
    assert renderer.classAttribute() == "label"
    categories = renderer.categories()
    assert [(c.value(), c.label(), c.symbol().color().name()) for c in categories] == [
        (1, "Forest", "#1b7837"), (3, "Water", "#2166ac")]
    symbol = categories[0].symbol()
    marker = symbol.symbolLayer(0)
    assert (marker.shape(), marker.size(), marker.strokeWidth(), marker.strokeColor().name()) == (
        marker.Circle, 2.4, 0.3, "#ffffff")


# model_file ----------------------------------------------------------------------------------

def _written(path, document, tensors=None) -> str:
    """A safetensors file holding `tensors` (one small one by default) and `document` as its MRS metadata, without
    checksums (as files written before them)."""
    from safetensors.torch import save_file

    save_file(tensors if tensors is not None else {"w": torch.ones(2)}, str(path),
              metadata={model_file.METADATA_KEY: json.dumps(document)})
    return str(path)


def _refused(call, *args, error=ModelFileError, **kwargs) -> str:
    """The sentence `call` refuses with, an `error` (pytest fails where it returns or raises another)."""
    with pytest.raises(error) as refused:
        call(*args, **kwargs)
    return str(refused.value)


def test_a_model_file_records_its_format_version_as_a_whole_number_and_its_time_to_the_second(tmp_path):
    """The header a reader of another version compares as it stands: format_version 1 (not 1.0), created in UTC
    without fractions of a second."""
    path = str(tmp_path / "model.safetensors")
    model_file.save(path, {"w": torch.ones(2)}, {"kind": model_file.CLASSIFIER})
    with open(path, "rb") as handle:
        header = json.loads(handle.read(struct.unpack("<Q", handle.read(8))[0]))
    document = json.loads(header["__metadata__"]["mrs"])
    assert '"format_version": 1,' in header["__metadata__"]["mrs"] and document["format_version"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", document["created"]), document["created"]


DOCUMENT = {"format": "mrs-ssmae", "format_version": 1, "kind": "classifier"}


@pytest.mark.parametrize("edit, said", [
    ({"format_version": "2.0.0-nightly-20261207"}, f"has model file format version '2.0.0-nightly-20261; this plugin "
                                                   f"({__version__}) reads version 1. Re-create the model with this "),
    ({"kind": "k" * 50}, f"is of unknown kind '{'k' * 39}, but a trained classifier (made by"),
])
def test_a_long_format_version_or_kind_is_shown_cut_to_its_first_characters(tmp_path, edit, said):
    """A version is shown to 20 characters of its repr, an unknown kind to 40."""
    path = _written(tmp_path / "model.safetensors", {**DOCUMENT, **edit})
    assert said in _refused(model_file.read_metadata, path, [model_file.CLASSIFIER], "MODEL")


def test_a_file_of_an_unknown_kind_is_not_replaced_and_its_kind_shown_cut_to_40_characters(tmp_path):
    """refuse_replacing names another MRS model file's unknown kind by the first 40 characters of its repr."""
    path = _written(tmp_path / "model.safetensors", {**DOCUMENT, "kind": "k" * 50})
    assert _refused(model_file.refuse_replacing, path, model_file.CLASSIFIER, "OUTPUT") == (
        f"OUTPUT: '{path}' is an MRS model file of kind '{'k' * 39}; writing a trained classifier there would destroy "
        "it. Choose another file name, or delete that file first.")


@pytest.mark.parametrize("wanted, said", [
    # three of a kind are all named, without ' ...'
    ({"a": (2,), "b": (2,), "c": (2,), "w": (2,)}, "(missing 'a', 'b', 'c')"),
    # a long name is cut to 60 characters; a tensor of another shape is named as such
    ({"n" * 70: (2,), "w": (3,)}, f"(unexpected 'x'; missing '{'n' * 60}'; other shapes of 'w')"),
])
def test_the_tensors_a_file_misses_or_holds_unlike_its_metadata_are_named(tmp_path, wanted, said):
    """Up to three names per difference, ' ...' only beyond three, each name cut to 60 characters."""
    tensors = {"w": torch.ones(2)} if "a" in wanted else {"w": torch.ones(2), "x": torch.ones(1)}
    path = _written(tmp_path / "model.safetensors", DOCUMENT, tensors)
    assert _refused(model_file.load, path, [model_file.CLASSIFIER], "MODEL", shapes=wanted) == (
        f"MODEL: '{path}' does not hold the weights its metadata describes {said}. Re-create the model.")


def _zip_holding_a_pickle(path) -> str:
    """A zip archive holding a pickle not named data.pkl (as PyTorch's are)."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weights.pkl", b"\x80\x04K\x01.")
    return str(path)


@pytest.mark.parametrize("make, said", [
    # a table of tab-separated values begins with a tab: still text
    (lambda path: path.write_bytes(b"\tband\tvalue\n\t1\t0.5\n") and str(path), "is a text file, not a model file. "),
    # text that begins as a zip archive's signature does, 'PK', is no archive (nor a pickle)
    (lambda path: path.write_bytes(b"PKCS#12 certificate notes\n") and str(path), "is a text file, not a model file. "),
    # a header of no tensors and 3 bytes after it
    (lambda path: _written(path, DOCUMENT, {}) and path.write_bytes(path.read_bytes() + b"abc") and str(path),
     "is longer than its header says: 3 bytes were added at its end, or it is damaged. "),
    (_zip_holding_a_pickle, "is a Python pickle or PyTorch archive, not an MRS model file. "),
    # 8 bytes whose first is a pickle's: a header's length at most, too short to be refused as a pickle
    (lambda path: path.write_bytes(b"\x80\x04K\x01.\x00\x00\x00") and str(path),
     "is too short to be a model file (8 bytes). "),
    # a model file of one tensor with its last byte cut off
    (lambda path: _written(path, DOCUMENT) and path.write_bytes(path.read_bytes()[:-1]) and str(path),
     "is truncated: 1 byte shorter than its header says (a copy or download that stopped early). "),
])
def test_a_file_that_is_no_model_file_is_said_to_be_what_it_is(tmp_path, make, said):
    """A text file that begins with a tab or with 'PK', a header of no tensors with bytes added, a zip archive of any
    pickle, 8 bytes beginning as a pickle, a file a byte short."""
    path = tmp_path / "model.safetensors"
    make(path)
    assert f"MODEL: '{path}' {said}" in _refused(model_file.read_metadata, str(path), [model_file.CLASSIFIER], "MODEL")


def test_a_changed_weight_beside_integer_tensors_is_said_to_be_damage_not_a_conversion(tmp_path):
    """Only floating-point tensors other than float32 tell of another tool's conversion; a checkpoint's integer
    counters do not."""
    path = tmp_path / "model.safetensors"
    model_file.save(str(path), {"w": torch.ones(2), "step": torch.tensor([3], dtype=torch.int64)},
                    {"kind": model_file.CLASSIFIER})
    data = bytearray(path.read_bytes())
    data[-9] ^= 1  # the last byte of w, before step's 8 bytes
    path.write_bytes(bytes(data))
    assert _refused(model_file.load, str(path), [model_file.CLASSIFIER], "MODEL") == (
        f"MODEL: '{path}' is damaged: its weights no longer match the checksum written with them (a byte changed in a "
        "copy or on the disk, or an edit by hand). Copy it again from where it was made, or re-create it.")


def test_a_model_file_that_cannot_be_opened_is_said_so_with_the_system_s_reason(tmp_path, monkeypatch):
    """The reason the system gives ('Permission denied') ends the sentence."""
    path = _written(tmp_path / "model.safetensors", DOCUMENT)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(model_file, "open", denied, raising=False)
    assert _refused(model_file.read_metadata, path, [model_file.CLASSIFIER], "MODEL") == (
        f"MODEL: '{path}' cannot be read (Permission denied). Choose a model file (.safetensors) made by this plugin.")


def test_a_pipe_named_as_the_output_is_refused_without_waiting_on_it(tmp_path):
    """refuse_replacing does not open a named pipe (which waits for a writer without end) to read its header."""
    import os
    import threading

    pipe = tmp_path / "model.safetensors"
    os.mkfifo(pipe)
    said = []
    thread = threading.Thread(target=lambda: said.append(_refused(
        model_file.refuse_replacing, str(pipe), model_file.CLASSIFIER, "OUTPUT")), daemon=True)
    thread.start()
    thread.join(3)
    waited = thread.is_alive()
    if waited:  # let the reader go: a writer that closes at once
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(3)
    assert not waited and said == [f"OUTPUT: '{pipe}' exists and is not an MRS model file; writing a trained "
                                   "classifier there would destroy it. Choose another file name, or delete that file "
                                   "first."]


def test_a_model_file_whose_time_of_making_was_edited_is_refused_as_damaged(tmp_path):
    """The checksum of the metadata covers `created` as every other entry."""
    path = tmp_path / "model.safetensors"
    model_file.save(str(path), {"w": torch.ones(2)}, {"kind": model_file.CLASSIFIER})
    created = model_file.read_metadata(str(path), [model_file.CLASSIFIER])["created"].encode()
    path.write_bytes(path.read_bytes().replace(created, b"1999" + created[4:], 1))
    assert _refused(model_file.read_metadata, str(path), [model_file.CLASSIFIER], "MODEL") == (
        f"MODEL: '{path}' is damaged: its metadata no longer match the checksum written with them (a byte changed in a "
        "copy or on the disk, or an edit by hand). Copy it again from where it was made, or re-create it.")


def test_only_the_tensors_whose_names_begin_with_the_prefix_are_loaded(tmp_path):
    """`within` is a prefix: a tensor holding it further in its name is left alone."""
    tensors = {"encoder.w": torch.ones(2), "head.encoder.w": torch.ones(1)}
    path = _written(tmp_path / "model.safetensors", DOCUMENT, tensors)
    tensors, _ = model_file.load(path, [model_file.CLASSIFIER], within="encoder.", shapes={"w": (2,)})
    assert list(tensors) == ["encoder.w"]


@pytest.mark.parametrize("kind, kinds, said", [
    ("checkpoint", ["classifier"], "is a training checkpoint, but a trained classifier (made by fine-tuning) is needed "
                                   "here; give it as resume_path to the run that wrote it."),
    ("classifier", ["pretrained", "checkpoint"], "is a trained classifier (made by fine-tuning), but a pretraining "
                                                 "model (made by pretraining) or a training checkpoint is needed here; "
                                                 "use it with classification."),
])
def test_a_model_file_of_another_kind_is_refused_naming_the_kinds_needed_and_what_to_do_with_it(tmp_path, kind, kinds,
                                                                                              said):
    """The kinds a parameter takes are joined by 'or'; a checkpoint is to be resumed by the run that wrote it."""
    path = _written(tmp_path / "model.safetensors", {**DOCUMENT, "kind": kind})
    assert _refused(model_file.read_metadata, path, kinds, "MODEL") == f"MODEL: '{path}' {said}"


def test_tensors_that_cannot_be_read_are_said_to_be_damaged_with_the_library_s_reason(tmp_path, monkeypatch):
    """The reason reading a tensor failed ends up in the sentence."""
    path = _written(tmp_path / "model.safetensors", DOCUMENT)
    opened = model_file.safe_open

    class Failing:
        def __init__(self, *args, **kwargs):
            self.handle = opened(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def get_tensor(self, name):
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(model_file, "safe_open", Failing)
    assert _refused(model_file.load, path, [model_file.CLASSIFIER], "MODEL") == (
        f"MODEL: '{path}' is damaged: its tensors cannot be read ([Errno 5] Input/output error). Re-create it, or copy "
        "it again.")


def test_a_style_file_that_is_gone_is_said_to_be_missing_not_absent_from_a_database(qgis_app, tmp_path):
    """A map whose .qml was deleted was said to be unstyled because 'Style not found in database' (QGIS's words for
    a file that does not exist, a helper's audit of 2026-12-07): the analyst was sent looking for a database."""
    from qgis.core import QgsProcessingContext, QgsProject, QgsRasterLayer

    path = write_raster(tmp_path / "map.tif", np.ones((4, 4), np.uint8))  # no map.qml beside it
    context = QgsProcessingContext()
    context.addLayerToLoadOnCompletion(path, QgsProcessingContext.LayerDetails("Land-cover map", QgsProject.instance()))
    assert styling.style_when_loaded(context, path)
    feedback = RecordingFeedback()
    context.layerToLoadOnCompletionDetails(path).postProcessor().postProcessLayer(
        QgsRasterLayer(path, "Land-cover map"), context, feedback)
    assert feedback.errors == [f"The style {tmp_path / 'map.qml'} could not be applied to 'Land-cover map': the file "
                               "does not exist."]
