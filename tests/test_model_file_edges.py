"""Edges of reading and writing model files and checkpoints that no test pinned (a mutation audit of 2026-12-06).

Each test here failed on one change to model_core/model_file.py, loading.py or checkpoints.py that
the suite let pass: the most bands a model may have, band counts given as true, other SAR/LiDAR
counts beside as many HSI bands, a file saved without its kind, a tensor digest that is no text or was
deleted, a classifier file of no tensors and one of a bare 8-byte header length, a checkpoint's clock,
its random generator's state and the pretrained model it started from, the pixel-size limits, class
values, weights that are not finite floating-point numbers, and another program's file under the
plugin's metadata key.
"""

import json
import os
import time

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from model_core import MAX_CLASS_VALUE, model_file
from model_core.checkpoints import Checkpointer, LoopState
from model_core.errors import BandCountError, ModelFileError
from model_core.hooks import Hooks
from model_core.loading import (MAX_BANDS, band_counts, check_bands, check_pixel_size, load_classifier,
                                load_pretrained)
from model_core.model import SSMAEClassifier
from model_core.names import Names
from model_core.settings import TrainSettings

from test_model_file import TINY, classifier_file, description, pretrained_file  # noqa: F401 - the fixtures
from test_training import DESCRIPTION


def _damaged(path: str, part: str) -> str:
    return (f"The model file: '{path}' is damaged: its {part} no longer match the checksum written with them (a byte "
            "changed in a copy or on the disk, or an edit by hand). Copy it again from where it was made, or "
            "re-create it.")


def _rewritten(source: str, path: str, kind: str, edit) -> str:
    """A copy of the model file `source` at `path` (not over it: it is memory-mapped while read), its
    tensors and metadata edited by edit(tensors, metadata) and written as they are, checksums and all."""
    tensors, metadata = model_file.load(source, [kind])
    tensors = {name: tensor.clone() for name, tensor in tensors.items()}
    edit(tensors, metadata)
    save_file(tensors, path, metadata={model_file.METADATA_KEY: json.dumps(metadata)})
    return path


def _saved_again(source: str, path: str, kind: str, edit) -> str:
    """A copy of `source` at `path` with its tensors edited by edit(tensors), saved with fresh checksums."""
    tensors, metadata = model_file.load(source, [kind])
    tensors = {name: tensor.clone() for name, tensor in tensors.items()}
    edit(tensors)
    model_file.save(path, tensors, metadata)
    return path


def test_a_model_of_max_bands_in_all_is_accepted_and_one_of_a_band_more_refused():
    assert MAX_BANDS == 2048
    assert band_counts({"n_hsi": 2047, "n_aux": 1}, "m.safetensors", "MODEL") == (2047, 1)
    with pytest.raises(ModelFileError) as refused:
        band_counts({"n_hsi": 2048, "n_aux": 1}, "m.safetensors", "MODEL")
    assert str(refused.value) == (
        "MODEL: 'm.safetensors' does not say for how many bands it was made (n_hsi 2048, n_aux 1; a model needs at "
        "least 3 HSI bands and 1 SAR/LiDAR band, at most 2048 in all). Re-create the model with this plugin.")


@pytest.mark.parametrize("n_hsi, n_aux, shown", [(6, True, "n_hsi 6, n_aux True"), (True, 1, "n_hsi True, n_aux 1")])
def test_band_counts_given_as_true_are_no_counts(n_hsi, n_aux, shown):
    with pytest.raises(ModelFileError) as refused:
        band_counts({"n_hsi": n_hsi, "n_aux": n_aux}, "m.safetensors", "MODEL")
    assert str(refused.value) == (
        f"MODEL: 'm.safetensors' does not say for how many bands it was made ({shown}; a model needs at least 3 HSI "
        "bands and 1 SAR/LiDAR band, at most 2048 in all). Re-create the model with this plugin.")


def test_a_model_for_as_many_hsi_bands_but_other_sar_lidar_bands_is_refused():
    metadata = {"n_hsi": 6, "n_aux": 1, "hsi_layer": "hsi", "aux_layers": ["dsm"]}
    check_bands(metadata, 6, 1, "m.safetensors", "MODEL")
    with pytest.raises(BandCountError) as refused:
        check_bands(metadata, 6, 2, "m.safetensors", "MODEL")
    assert str(refused.value) == (
        "MODEL: 'm.safetensors' was made for 6 HSI bands and 1 SAR/LiDAR band (HSI 'hsi', SAR/LiDAR 'dsm'), but the "
        "layers give 6 HSI bands and 2 SAR/LiDAR bands. Give rasters of the bands it was made for, in the same order, "
        "or train a model on these rasters.")
    assert (refused.value.expected, refused.value.given) == ((6, 1), (6, 2))


@pytest.mark.parametrize("metadata", [{"preset": "tiny"}, {"kind": "weird"}])
def test_a_model_file_without_a_known_kind_is_not_written(tmp_path, metadata):
    path = tmp_path / "kindless.safetensors"
    with pytest.raises(ValueError) as refused:
        model_file.save(str(path), {"w": torch.zeros(2)}, metadata)
    assert str(refused.value) == "A model file needs a kind among ['checkpoint', 'classifier', 'pretrained']."
    assert os.listdir(tmp_path) == []


def test_a_tensor_digest_that_is_not_text_is_refused_as_damaged_metadata(classifier_file, tmp_path):  # noqa: F811
    def edit(tensors, metadata):
        metadata[model_file.CHECKSUMS]["tensors_sha256"]["head.1.weight"] = 5

    path = _rewritten(classifier_file[0], str(tmp_path / "digest.safetensors"), model_file.CLASSIFIER, edit)
    with pytest.raises(ModelFileError) as refused:
        model_file.read_metadata(path, [model_file.CLASSIFIER])
    assert str(refused.value) == _damaged(path, "metadata")


def test_a_weight_edited_with_its_digest_deleted_is_refused_as_damaged_weights(classifier_file, tmp_path):  # noqa: F811
    def edit(tensors, metadata):
        tensors["head.1.weight"] *= 10
        del metadata[model_file.CHECKSUMS]["tensors_sha256"]["head.1.weight"]

    path = _rewritten(classifier_file[0], str(tmp_path / "undigested.safetensors"), model_file.CLASSIFIER, edit)
    with pytest.raises(ModelFileError) as refused:
        load_classifier(path)
    assert str(refused.value) == _damaged(path, "weights")


def test_a_classifier_file_of_no_tensors_is_said_to_miss_its_weights_not_to_be_truncated(tmp_path):  # noqa: F811
    """Its header ends at its last byte: a whole file, not one shorter than its header says."""
    path = str(tmp_path / "empty.safetensors")
    classes = [{"value": v, "name": f"class {v}", "color": "#112233"} for v in (1, 2, 3)]
    model_file.save(path, {}, {**description(), "kind": model_file.CLASSIFIER, "classes": classes})
    first = sorted(SSMAEClassifier(TINY, 6, 1, 3).state_dict())[:3]
    with pytest.raises(ModelFileError) as refused:
        load_classifier(path, what="MODEL")
    assert str(refused.value) == (f"MODEL: '{path}' does not hold the weights its metadata describes (missing "
                                  f"{', '.join(repr(name) for name in first)} ...). Re-create the model.")


def test_a_file_of_a_bare_header_length_is_said_to_be_too_short(tmp_path):
    """It was 'no model file: it does not begin with a safetensors header', which it may well begin with."""
    path = tmp_path / "eight.safetensors"
    path.write_bytes(bytes([0x10, 0, 0, 0, 0, 0, 0, 0]))
    with pytest.raises(ModelFileError) as refused:
        load_classifier(str(path), what="MODEL")
    assert str(refused.value) == (f"MODEL: '{path}' is too short to be a model file (8 bytes). Choose a model file "
                                  "(.safetensors) made by this plugin.")


def _model_and_optimizer():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    return model, optimizer


CHECKPOINT_SETTINGS = TrainSettings(device="cpu", precision="fp32", checkpoint_seconds=60.0)


def _checkpointer(path):
    return Checkpointer(path, "pretraining", CHECKPOINT_SETTINGS, "fingerprint", DESCRIPTION,
                        names=Names(resume="RESUME"))


def test_a_saved_checkpoint_is_due_again_only_after_its_interval(tmp_path):
    checkpointer = _checkpointer(str(tmp_path / "run.checkpoint.safetensors"))
    checkpointer.saved_at = time.monotonic() - 100
    assert checkpointer.due()
    checkpointer.save(*_model_and_optimizer(), LoopState(), None, None)
    assert not checkpointer.due()


def test_a_checkpoint_whose_generator_state_is_invalid_is_refused_as_damaged(tmp_path):
    saved = str(tmp_path / "run.checkpoint.safetensors")
    _checkpointer(saved).save(*_model_and_optimizer(), LoopState(), torch.Generator().manual_seed(3), None)
    tensors, metadata = model_file.load(saved, [model_file.CHECKPOINT])
    assert tensors["rng.generator"].shape == torch.Generator().get_state().shape
    damaged = str(tmp_path / "damaged.checkpoint.safetensors")
    model_file.save(damaged, {**tensors, "rng.generator": torch.zeros_like(tensors["rng.generator"])}, metadata)
    with pytest.raises(ModelFileError) as refused:
        _checkpointer(None).restore(damaged, *_model_and_optimizer())
    said = str(refused.value)  # torch's own words in the brackets
    assert said.startswith(f"RESUME: the checkpoint '{damaged}' is incomplete or damaged (") and said.endswith(
        "). Start without RESUME.")
    state, generator, best = _checkpointer(None).restore(saved, *_model_and_optimizer())
    assert (state, best) == (LoopState(), None)
    assert torch.equal(generator, torch.Generator().manual_seed(3).get_state())


PRETRAINED_FROM = {"file": "/data/pretrained.safetensors", "created": "2026-12-05T10:00:00+00:00",
                   "masking": {"strategy": "mrs"}, "metadata_sha256": "cd" * 32}


def _fine_tuning_checkpoint(path, pretrained_from):
    return Checkpointer(path, "fine-tuning", CHECKPOINT_SETTINGS, "fingerprint",
                        {**DESCRIPTION, "pretrained_from": pretrained_from}, names=Names(resume="RESUME"))


def _resumed_from(tmp_path, started, starting):
    """What restoring a fine-tuning's checkpoint that started from `started` says where this run starts from
    `starting`: 'resumed', or the refusal's words."""
    path = str(tmp_path / "finetune.checkpoint.safetensors")
    _fine_tuning_checkpoint(path, started).save(*_model_and_optimizer(), LoopState(), None, None)
    try:
        _fine_tuning_checkpoint(None, starting).restore(path, *_model_and_optimizer())
    except ModelFileError as error:
        return str(error)
    return "resumed"


OTHER_PRETRAINED = ("RESUME: the checkpoint '{}' does not continue this run: it started from another pretrained model "
                    "than the pretrained model gives. Resume with the same layers and settings, or start without "
                    "RESUME.")


@pytest.mark.parametrize("started, starting, said", [
    # a checkpoint written before pretrained models had a weights digest, then one with it
    (PRETRAINED_FROM, {**PRETRAINED_FROM, "weights_sha256": "11"}, "resumed"),
    ({**PRETRAINED_FROM, "weights_sha256": "11"}, PRETRAINED_FROM, "resumed"),
    ({**PRETRAINED_FROM, "weights_sha256": "11"}, {**PRETRAINED_FROM, "weights_sha256": "22"}, OTHER_PRETRAINED),
    (PRETRAINED_FROM, {**PRETRAINED_FROM, "weights_sha256": "11", "metadata_sha256": "ef" * 32}, OTHER_PRETRAINED),
])
def test_a_fine_tuning_checkpoint_compares_the_pretrained_model_s_weights_digest_only_where_both_record_it(
        tmp_path, started, starting, said):
    path = str(tmp_path / "finetune.checkpoint.safetensors")
    assert _resumed_from(tmp_path, started, starting) == said.format(path)


def _pixel_warnings(metadata, sides):
    warnings = []
    check_pixel_size({**metadata, "patch": 7}, sides, "hsi", "m.safetensors", "MODEL", Hooks(warn=warnings.append))
    return warnings


SMALL_PIXELS = ("MODEL: 'm.safetensors' was trained on pixels of about 1 m, but the hyperspectral layer 'hsi' has "
                "pixels of about 0.2 m: its 7 x 7 pixels around each pixel then cover 1.4 m instead of 7 m on the "
                "ground, and the map may be worse. Resample the layers to about 1 m (gdalwarp -tr), or train a model "
                "on pixels of this size.")


@pytest.mark.parametrize("trained, sides", [(1.0, (1.5, 1.5)), (3.0, (2.0, 2.0)), (1.0, (1.0, 1.5))])
def test_pixels_exactly_the_ratio_larger_or_smaller_than_the_model_s_are_not_warned_of(trained, sides):
    assert _pixel_warnings({"pixel_size_m": trained, "pixel_sides_m": [trained, trained]}, sides) == []
    assert _pixel_warnings({"pixel_size_m": trained}, sides) == []  # compared by their mean


@pytest.mark.parametrize("recorded", [[1.0, 0.0], [-1.0, -1.0], [0.0, 0.0]])
def test_recorded_pixel_sides_that_are_not_positive_are_none_and_the_mean_size_is_compared(recorded):
    assert _pixel_warnings({"pixel_size_m": 1.0, "pixel_sides_m": recorded}, (0.2, 0.2)) == [SMALL_PIXELS]
    assert _pixel_warnings({"pixel_size_m": 1.0, "pixel_sides_m": recorded}, (1.0, 1.0)) == []


@pytest.mark.parametrize("value, refused", [(MAX_CLASS_VALUE, False), (MAX_CLASS_VALUE + 1, True)])
def test_a_class_value_above_the_largest_a_map_holds_is_refused(classifier_file, tmp_path, value,  # noqa: F811
                                                                 refused):
    def edit(tensors, metadata):
        metadata["classes"][2]["value"] = value
        metadata.pop(model_file.CHECKSUMS)  # an edit by hand, its checksums deleted: the classes are still checked

    path = _rewritten(classifier_file[0], str(tmp_path / "classes.safetensors"), model_file.CLASSIFIER, edit)
    if not refused:
        assert [item["value"] for item in load_classifier(path).classes] == [1, 2, MAX_CLASS_VALUE]
        return
    with pytest.raises(ModelFileError) as caught:
        load_classifier(path, what="MODEL")
    assert str(caught.value) == (
        f"MODEL: '{path}' does not list its classes (at least two, each with its own whole value from 1 to "
        "4294967295, a name and a colour '#rrggbb'). Re-create it with fine-tuning.")


@pytest.mark.parametrize("made, tensor, shown, value", [
    ("classifier_file", "head.1.weight", "head.1.weight", float("nan")),
    ("classifier_file", "head.1.weight", "head.1.weight", float("inf")),
    ("pretrained_file", "encoder.spatial.cls_token", "spatial.cls_token", float("inf"))])
def test_a_model_whose_weights_are_not_finite_is_refused(request, tmp_path, made, tensor, shown, value):
    classifier = made == "classifier_file"

    def edit(tensors):
        tensors[tensor].view(-1)[0] = value

    path = _saved_again(request.getfixturevalue(made)[0], str(tmp_path / "diverged.safetensors"),
                        model_file.CLASSIFIER if classifier else model_file.PRETRAINED, edit)
    what = "MODEL" if classifier else "PRETRAINED"
    with pytest.raises(ModelFileError) as refused:
        (load_classifier if classifier else load_pretrained)(path, what=what)
    assert str(refused.value) == (
        f"{what}: '{path}' holds weights that are not finite numbers (NaN or infinite, in '{shown}'); its training may "
        "have diverged. Re-create the model, with a lower learning rate if its training diverged.")


def test_a_classifier_whose_weights_are_integers_is_refused(classifier_file, tmp_path):  # noqa: F811
    def edit(tensors):
        tensors["head.1.weight"] = (tensors["head.1.weight"] * 100).to(torch.int64)

    path = _saved_again(classifier_file[0], str(tmp_path / "integers.safetensors"), model_file.CLASSIFIER, edit)
    with pytest.raises(ModelFileError) as refused:
        load_classifier(path, what="MODEL")
    assert str(refused.value) == (f"MODEL: '{path}' holds 'head.1.weight' as torch.int64, which is not a type of "
                                  "model weights. Re-create the model.")


def test_another_program_s_file_under_the_plugin_s_metadata_key_is_not_written_over(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(path),
              metadata={model_file.METADATA_KEY: json.dumps({"format": "other-tool", "kind": model_file.CLASSIFIER})})
    before = path.read_bytes()
    with pytest.raises(ModelFileError) as refused:
        model_file.refuse_replacing(str(path), model_file.CLASSIFIER, "OUTPUT")
    assert str(refused.value) == (f"OUTPUT: '{path}' exists and is not an MRS model file; writing a trained classifier "
                                  "there would destroy it. Choose another file name, or delete that file first.")
    assert path.read_bytes() == before


@pytest.mark.parametrize("field, value, differs", [("config", [1, 2], "its model differs (preset 'tiny')"),
                                                   ("masking", "mrs", "its pretext task differs (unknown)"),
                                                   ("checkpoint", 7, "it belongs to 'None', not pretraining; ")])
def test_a_checkpoint_whose_description_is_not_a_mapping_is_refused_in_a_sentence(tmp_path, field, value, differs):
    """A checkpoint rewritten by hand (or another tool) with a list or text where a mapping belongs is refused as
    another run's, not failed with an AttributeError (left alone in note 43)."""
    saved = str(tmp_path / "run.checkpoint.safetensors")
    _checkpointer(saved).save(*_model_and_optimizer(), LoopState(), None, None)
    tensors, metadata = model_file.load(saved, [model_file.CHECKPOINT])
    edited = str(tmp_path / "edited.checkpoint.safetensors")
    model_file.save(edited, tensors, {**metadata, field: value})
    with pytest.raises(ModelFileError) as refused:
        _checkpointer(None).restore(edited, *_model_and_optimizer())
    said = str(refused.value)
    assert said.startswith(f"RESUME: the checkpoint '{edited}' does not continue this run: {differs}")
    assert said.endswith(". Resume with the same layers and settings, or start without RESUME.")
