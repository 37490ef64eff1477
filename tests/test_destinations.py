"""Where model files and suggested points go by default: never a temporary file in the desktop."""

from pathlib import Path

import pytest

from mrs.algorithms.demo_scene import DemoSceneAlgorithm
from mrs.algorithms.finetune import FinetuneAlgorithm
from mrs.algorithms.pretrain import PretrainAlgorithm
from mrs.algorithms.suggest import SuggestAlgorithm
from mrs.mrs_qgis_plugin import destinations
from mrs.mrs_qgis_plugin.destinations import persistent_folder, unused_path


def test_an_unused_path_never_names_an_existing_file(tmp_path):
    assert unused_path(str(tmp_path), "pretrained", "safetensors") == str(tmp_path / "pretrained.safetensors")
    (tmp_path / "pretrained.safetensors").write_bytes(b"")
    (tmp_path / "pretrained_2.safetensors").write_bytes(b"")
    assert unused_path(str(tmp_path), "pretrained", "safetensors") == str(tmp_path / "pretrained_3.safetensors")
    # Nor one beside a stopped run's checkpoint, which a training there is refused not to delete.
    (tmp_path / "pretrained_3.checkpoint.safetensors").write_bytes(b"progress")
    assert unused_path(str(tmp_path), "pretrained", "safetensors") == str(tmp_path / "pretrained_4.safetensors")


def test_the_folder_is_the_saved_projects_then_processings_output_folder_then_home(tmp_path, monkeypatch):
    project, outputs = tmp_path / "project", tmp_path / "outputs"
    outputs.mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert persistent_folder("", str(outputs)) == str(outputs)
    project.mkdir()
    assert persistent_folder(str(project), str(outputs)) == str(project)
    assert persistent_folder("", str(tmp_path / "gone")) == str(tmp_path / "home")


def test_model_outputs_default_to_a_new_file_in_the_desktop_and_stay_temporary_elsewhere(
    qgis_app, tmp_path, monkeypatch
):
    monkeypatch.setattr(destinations.QgsApplication, "platform", staticmethod(lambda: "desktop"))
    monkeypatch.setattr(destinations, "persistent_folder", lambda *_: str(tmp_path))
    (tmp_path / "classifier_model.safetensors").write_bytes(b"")
    (tmp_path / "demo_scene").mkdir()  # the demo scene's layers broke when QGIS deleted its temporary folder
    defaults = {}
    for algorithm_class in (PretrainAlgorithm, FinetuneAlgorithm, SuggestAlgorithm, DemoSceneAlgorithm):
        algorithm = algorithm_class()
        algorithm.initAlgorithm()
        defaults[algorithm.id()] = algorithm.parameterDefinition("OUTPUT").defaultValue()
        assert "never" in algorithm.parameterDefinition("OUTPUT").help()
    assert defaults == {"pretrain": str(tmp_path / "pretrained_model.safetensors"),
                        "finetune": str(tmp_path / "classifier_model_2.safetensors"),
                        "suggest": str(tmp_path / "suggested_points.gpkg"),
                        "demoscene": str(tmp_path / "demo_scene_2")}
    monkeypatch.undo()
    for algorithm_class in (PretrainAlgorithm, SuggestAlgorithm, DemoSceneAlgorithm):
        algorithm = algorithm_class()
        algorithm.initAlgorithm()
        assert algorithm.parameterDefinition("OUTPUT").defaultValue() is None


def test_an_output_left_temporary_under_qgis_process_is_told_to_be_given_as_a_file_or_a_folder(qgis_app,
                                                                                               monkeypatch):
    """A review of 2026-12-06: the demo scene's folder was told to be given as '--OUTPUT=FILE'."""
    from qgis.core import QgsProcessingUtils

    from mrs.algorithms import base
    from mrs.model_core.hooks import Hooks

    monkeypatch.setattr(base, "on_command_line", lambda: True)
    told = []
    for algorithm_class, name in ((DemoSceneAlgorithm, "demo"), (PretrainAlgorithm, "m.safetensors")):
        path = f"{QgsProcessingUtils.tempFolder()}/{name}"
        algorithm_class()._say_temporary({"OUTPUT": path}, Hooks(warn=told.append))
    assert [line.split("; ")[-1] for line in told] == ["give --OUTPUT=FOLDER to keep it.",
                                                       "give --OUTPUT=FILE to keep it."]
    assert told[0].startswith(f"OUTPUT: {QgsProcessingUtils.tempFolder()}/demo is in QGIS's temporary folder, "
                              "which qgis_process deletes as it ends")


def test_qgis_s_temporary_folder_itself_as_the_demo_scene_s_folder_is_warned_of(qgis_app):
    """Left alone in note 43: the demo scene written into QGIS's temporary folder itself (not a folder inside it)
    was not warned of, and was deleted with it when QGIS closed."""
    from qgis.core import QgsProcessingUtils

    from mrs.model_core.hooks import Hooks

    told = []
    DemoSceneAlgorithm()._say_temporary({"OUTPUT": QgsProcessingUtils.tempFolder()}, Hooks(warn=told.append))
    assert told == [f"OUTPUT: {QgsProcessingUtils.tempFolder()} is QGIS's temporary folder, which QGIS deletes when it "
                    "closes; save the scene folder to a folder of your own to keep it."]


def test_an_output_in_the_working_folder_is_not_said_to_be_temporary_where_qgis_has_no_temporary_folder(
        qgis_app, tmp_path, monkeypatch):
    """A helper's red team of 2026-12-07: where QGIS could make no temporary folder (its setting a folder that
    cannot be made), its name was '', whose real path is the working folder: a model of one's own there was said
    to be in QGIS's temporary folder, deleted when QGIS closes."""
    from qgis.core import QgsProcessingUtils

    from mrs.algorithms import base
    from mrs.model_core.hooks import Hooks

    monkeypatch.chdir(tmp_path)
    told = []
    monkeypatch.setattr(base.QgsProcessingUtils, "tempFolder", staticmethod(lambda: ""))
    PretrainAlgorithm()._say_temporary({"OUTPUT": str(tmp_path / "m.safetensors")}, Hooks(warn=told.append))
    assert told == []
    monkeypatch.undo()
    PretrainAlgorithm()._say_temporary({"OUTPUT": f"{QgsProcessingUtils.tempFolder()}/m.safetensors"},
                                       Hooks(warn=told.append))
    assert len(told) == 1


def test_run_again_in_a_dialog_does_not_replace_the_model_its_first_run_wrote(provider, tmp_path, monkeypatch):
    """A desktop helper of 2026-12-05: Run, Change Parameters, Run again in one dialog wrote the
    second model over the first, under the name the dialog proposed when it opened."""
    from qgis.core import QgsProcessingException

    from processing_helpers import QUICK_FINETUNE, run, scene_layers, write_test_scene

    scene = write_test_scene(tmp_path / "scene")
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.setattr(destinations.QgsApplication, "platform", staticmethod(lambda: "desktop"))
    monkeypatch.setattr(destinations, "persistent_folder", lambda *_: str(folder))
    algorithm = FinetuneAlgorithm()
    algorithm.initAlgorithm()
    proposed = algorithm.parameterDefinition("OUTPUT").defaultValue()
    parameters = {**scene_layers(scene), **QUICK_FINETUNE, "EPOCHS": 1, "LABELS": str(scene.train), "OUTPUT": proposed}
    run("mrs:finetune", parameters)
    first = open(proposed, "rb").read()
    with pytest.raises(QgsProcessingException) as refused:
        run("mrs:finetune", {**parameters, "SEED": 3})
    assert str(refused.value) == (f"OUTPUT: {proposed} holds the model an earlier run wrote, under the name a dialog "
                                  "proposed for it. Choose another file name to keep both models, or delete that file "
                                  "to replace it.")
    assert open(proposed, "rb").read() == first
    chosen = str(tmp_path / "mine.safetensors")  # a name of the analyst's own is replaced as before
    run("mrs:finetune", {**parameters, "OUTPUT": chosen})
    own = open(chosen, "rb").read()
    run("mrs:finetune", {**parameters, "OUTPUT": chosen, "SEED": 3})
    assert open(chosen, "rb").read() != own


def test_the_workflow_refuses_a_proposed_model_name_taken_since_before_its_first_step(qgis_app, tmp_path,
                                                                                      monkeypatch):
    """The same for the workflow's model files, before the pretraining starts: the classifier's was
    written over after it (a desktop helper of 2026-12-05)."""
    from mrs.algorithms.workflow import WorkflowAlgorithm
    from mrs.model_core.errors import InputError

    monkeypatch.setattr(destinations.QgsApplication, "platform", staticmethod(lambda: "desktop"))
    monkeypatch.setattr(destinations, "persistent_folder", lambda *_: str(tmp_path))
    taken = destinations.default_output_path("classifier_model", "safetensors")
    Path(taken).write_bytes(b"a model")
    with pytest.raises(InputError, match=r"^finetune:CLASSIFIER: .*classifier_model\.safetensors holds the model an "
                                         r"earlier run wrote"):
        WorkflowAlgorithm._check_replaceable({"pretrain:PRETRAINED": str(tmp_path / "pretrained_model.safetensors"),
                                              "finetune:CLASSIFIER": taken})
    # a file of that name that no dialog of this session proposed is the analyst's own (a review of 2026-12-05)
    own = tmp_path / "classifier_model_2.safetensors"
    own.write_bytes(b"a model")
    destinations.refuse_a_proposed_name_taken(str(own), "finetune:CLASSIFIER")
