"""Where model files and suggested points go by default: never a temporary file in the desktop."""

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
