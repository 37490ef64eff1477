"""Models rebuilt from model files, checked against the layers they are used with."""

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

import torch

from . import model_file
from .config import ModelConfig
from .errors import ModelFileError
from .model import SSMAEClassifier
from .preprocessing import Normalizer


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def check_bands(metadata: Mapping[str, Any], n_hsi: int, n_aux: int, path: str, what: str) -> None:
    """Refuse a model made for other band counts than the layers give, naming both."""
    expected = (metadata.get("n_hsi"), metadata.get("n_aux"))
    if expected == (n_hsi, n_aux):
        return
    hsi_layer, aux_layers = metadata.get("hsi_layer", "?"), metadata.get("aux_layers", [])
    raise ModelFileError(
        f"{what}: '{path}' was made for {_plural(expected[0], 'HSI band')} and "
        f"{_plural(expected[1], 'SAR/LiDAR band')}, but the layers give {_plural(n_hsi, 'HSI band')} and "
        f"{_plural(n_aux, 'SAR/LiDAR band')}. Use the layers it was made with (HSI '{hsi_layer}', "
        f"SAR/LiDAR {', '.join(repr(name) for name in aux_layers) or '?'}), in the same order.")


def _parse(metadata: Mapping[str, Any], path: str, what: str):
    try:
        config = ModelConfig.from_dict(dict(metadata["config"]))
        normalizer = Normalizer.from_dict(metadata["normalization"])
        n_hsi, n_aux = int(metadata["n_hsi"]), int(metadata["n_aux"])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{what}: '{path}' has incomplete or invalid metadata ({error}). "
                             "Re-create the model with this plugin.") from None
    if normalizer.n_bands != n_hsi + n_aux:
        raise ModelFileError(f"{what}: '{path}' has normalisation statistics for {normalizer.n_bands} "
                             f"bands but describes {n_hsi + n_aux}. Re-create the model.")
    return config, normalizer, n_hsi, n_aux


@dataclass
class Pretrained:
    config: ModelConfig
    normalizer: Normalizer
    encoder_state: Dict[str, torch.Tensor]
    metadata: Dict[str, Any]


def load_pretrained(path: str, n_hsi: Optional[int] = None, n_aux: Optional[int] = None,
                    what: str = "PRETRAINED") -> Pretrained:
    tensors, metadata = model_file.load(path, [model_file.PRETRAINED], what)
    config, normalizer, file_hsi, file_aux = _parse(metadata, path, what)
    if n_hsi is not None:
        check_bands(metadata, n_hsi, n_aux, path, what)
    encoder = model_file.prefixed(tensors, "encoder")
    if not encoder:
        raise ModelFileError(f"{what}: '{path}' holds no encoder weights. Re-create it with mrs:pretrain.")
    return Pretrained(config, normalizer, encoder, metadata)


@dataclass
class Classifier:
    model: SSMAEClassifier
    normalizer: Normalizer
    classes: List[Dict[str, Any]]
    metadata: Dict[str, Any]


def load_classifier(path: str, n_hsi: Optional[int] = None, n_aux: Optional[int] = None,
                    what: str = "MODEL") -> Classifier:
    """The classifier in eval mode on the CPU, its normaliser and classes."""
    tensors, metadata = model_file.load(path, [model_file.CLASSIFIER], what)
    config, normalizer, file_hsi, file_aux = _parse(metadata, path, what)
    if n_hsi is not None:
        check_bands(metadata, n_hsi, n_aux, path, what)
    classes = metadata.get("classes")
    if not isinstance(classes, list) or len(classes) < 2:
        raise ModelFileError(f"{what}: '{path}' lists no classes. Re-create it with mrs:finetune.")
    model = SSMAEClassifier(config, file_hsi, file_aux, len(classes))
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise ModelFileError(f"{what}: '{path}' does not hold the weights its metadata describes "
                             f"({str(error).splitlines()[0]}). Re-create the model.") from None
    return Classifier(model.eval(), normalizer, classes, metadata)
