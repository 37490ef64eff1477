"""The jobs' parameter declarations and the checks of plain values, shared by the
Processing algorithms and bin/mrs: whole numbers are whole and exact, bounds are named."""

import pytest
from qgis.core import QgsProcessingException

from mrs.model_core import model_file
from mrs.model_core.errors import InputError
from mrs.mrs_qgis_plugin import parameters as spec
from mrs.mrs_qgis_plugin.job_parameters import CLASSIFY, FINETUNE, JOBS, PRETRAIN
from processing_helpers import QUICK_FINETUNE, algorithms_ready, run, scene_layers, write_test_scene

EPOCHS = PRETRAIN.parameter("EPOCHS")
BATCH_SIZE = FINETUNE.parameter("BATCH_SIZE")
SEED = FINETUNE.parameter("SEED")

REFUSED = [
    (EPOCHS, 2.5, "EPOCHS is 2.5, not a whole number; it must be a whole number of at least 1."),
    (EPOCHS, "2.5", "EPOCHS is 2.5, not a whole number; it must be a whole number of at least 1."),
    (EPOCHS, 3_000_000_000, "EPOCHS is 3000000000; it must be a whole number from 1 to 2147483647."),
    (BATCH_SIZE, str(2 ** 31), "BATCH_SIZE is 2147483648; it must be a whole number from 1 to 2147483647."),
    (BATCH_SIZE, 0, "BATCH_SIZE is 0; it must be a whole number of at least 1."),
    (SEED, 2 ** 31, "SEED is 2147483648; it must be a whole number from 0 to 2147483647."),
    (SEED, "1e30", "SEED is 1000000000000000019884624838656; it must be a whole number from 0 to 2147483647."),
    (EPOCHS, "ten", "EPOCHS is 'ten'; it must be a whole number of at least 1."),
    (EPOCHS, "nan", "EPOCHS is 'nan'; it must be a whole number of at least 1."),
    # Python's int() and float() take these; QGIS does not (red team of 2026-12-04).
    (EPOCHS, "2_00", "EPOCHS is '2_00'; it must be a whole number of at least 1."),
    (EPOCHS, "\u0662\u0660", "EPOCHS is '\u0662\u0660'; it must be a whole number of at least 1."),
    (EPOCHS, "\uff12\uff10", "EPOCHS is '\uff12\uff10'; it must be a whole number of at least 1."),
    (SEED, "1e-400", "SEED is '1e-400'; it must be a whole number of at least 0."),
    # A decimal comma is shown with its point; a whole number's comma stays unread (red team of 2026-12-05).
    (FINETUNE.parameter("LEARNING_RATE"), "0,5", "LEARNING_RATE is '0,5'; it must be a number from 1e-06 to 1 "
                                                 "(written with a decimal point: 0.5)."),
    (EPOCHS, "1,000", "EPOCHS is '1,000'; it must be a whole number of at least 1."),
    # A thousands point read as a decimal point: POINTS 1.000 gave one point (a helper's red team of 2026-12-05).
    (EPOCHS, "1.000", "EPOCHS is '1.000', which reads as 1 (a decimal point), not 1000 (a thousands separator): "
                      "write the whole number without points; it must be a whole number of at least 1."),
    (EPOCHS, "10.000.000", "EPOCHS is '10.000.000'; it must be a whole number of at least 1."),
    (EPOCHS, "0.500", "EPOCHS is 0.5, not a whole number; it must be a whole number of at least 1."),
    (FINETUNE.parameter("LEARNING_RATE"), "1,500", "LEARNING_RATE is '1,500'; it must be a number from 1e-06 to 1."),
    (FINETUNE.parameter("LEARNING_RATE"), "0,125", "LEARNING_RATE is '0,125'; it must be a number from 1e-06 to 1 "
                                                   "(written with a decimal point: 0.125)."),
    (PRETRAIN.parameter("SPECTRAL_RATIO"), "1", "SPECTRAL_RATIO is 1.0; it must be a number from 0.01 to 0.99."),
    (PRETRAIN.parameter("PRESET"), "huge", "PRESET is 'huge'; use one of: paper, small, tiny."),
    (FINETUNE.parameter("CLASS_WEIGHTING"), "maybe", "CLASS_WEIGHTING is 'maybe'; use true or false."),
    (CLASSIFY.parameter("DEVICE"), "GPU", "DEVICE is 'gpu'; use auto, cpu, cuda or cuda:N (N the GPU number, from 0)."),
]


@pytest.mark.parametrize("parameter, value, message", REFUSED, ids=lambda v: str(v)[:30])
def test_a_refused_value_is_named_with_the_bound_it_breaks(parameter, value, message):
    with pytest.raises(InputError) as raised:
        spec.read(parameter, value)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "parameter, value, expected",
    [(SEED, "2147483647", 2147483647), (SEED, 2_000_000_000.0, 2_000_000_000), (EPOCHS, "3.0", 3),
     (EPOCHS, "1e2", 100), (EPOCHS, " +7 ", 7), (PRETRAIN.parameter("SPECTRAL_RATIO"), ".5", 0.5),
     (EPOCHS, None, 60), (BATCH_SIZE, "", 64), (CLASSIFY.parameter("BATCH_SIZE"), None, None),
     (FINETUNE.parameter("CLASS_WEIGHTING"), "false", False), (CLASSIFY.parameter("DEVICE"), " CUDA:1", "cuda:1"),
     (FINETUNE.parameter("LEARNING_RATE"), "0.003", 0.003)],
)
def test_accepted_values_are_read_exactly_with_the_declared_defaults(parameter, value, expected):
    read = spec.read(parameter, value)
    assert read == expected and type(read) is type(expected)


def test_every_job_has_distinct_parameter_names_with_help_and_a_valid_default():
    assert list(JOBS) == ["pretrain", "finetune", "suggest", "classify", "accuracy", "redundancy", "demoscene"]
    for job in JOBS.values():
        names = [p.name for p in job.parameters]
        assert len(names) == len(set(names)), job.name
        for parameter in job.parameters:
            assert len(parameter.help) > 20, parameter.name
            if parameter.default is not None:
                assert spec.problem(parameter, parameter.default) is None, parameter.name
        help_text = job.help()
        assert help_text.startswith(job.description)


@pytest.fixture(scope="module")
def scene(qgis_processing, tmp_path_factory):
    with algorithms_ready():
        yield write_test_scene(tmp_path_factory.mktemp("scene"))


@pytest.mark.parametrize(
    "changes, message",
    [({"EPOCHS": 2.5}, "EPOCHS is 2.5, not a whole number"),
     ({"EPOCHS": "2147483648"}, "EPOCHS is 2147483648; it must be a whole number from 1 to 2147483647."),
     ({"BATCH_SIZE": 3_000_000_000}, "BATCH_SIZE is 3000000000; it must be a whole number from 1 to 2147483647."),
     ({"SEED": 2 ** 31 + 5}, "SEED is 2147483653; it must be a whole number from 0 to 2147483647.")],
)
def test_the_algorithms_refuse_what_they_cannot_take_exactly(scene, tmp_path, changes, message):
    parameters = {**scene_layers(scene), "LABELS": str(scene.train), **QUICK_FINETUNE,
                  "OUTPUT": str(tmp_path / "model.safetensors"), **changes}
    with pytest.raises(QgsProcessingException) as raised:
        run("mrs:finetune", parameters)
    assert message in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_the_largest_seed_a_dialog_holds_is_kept_exactly(scene, tmp_path):
    output = str(tmp_path / "model.safetensors")
    run("mrs:finetune", {**scene_layers(scene), "LABELS": str(scene.train), **QUICK_FINETUNE, "EPOCHS": 1,
                         "VALIDATION_FRACTION": 0, "SEED": 2 ** 31 - 1, "OUTPUT": output})
    assert model_file.read_metadata(output, [model_file.CLASSIFIER])["training"]["settings"]["seed"] == 2 ** 31 - 1


@pytest.mark.parametrize("job, message", [
    ("demoscene", "OUTPUT (Scene folder) has no value; give the folder to write (--OUTPUT=folder)."),
    ("pretrain", "OUTPUT (Pretrained model) has no value; give the file to write (--OUTPUT=file)."),
])
def test_an_output_left_empty_on_the_command_line_is_asked_for_as_what_it_is(job, message):
    assert spec.problem(JOBS[job].parameter("OUTPUT"), "", destinations_required=True) == message
