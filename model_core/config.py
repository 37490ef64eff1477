"""Model configurations: the `paper` architecture and lighter presets for CPUs and tests.

A preset is a named `ModelConfig`; the code that builds the model is the same for all.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any, Dict

_LIMITS = {
    "dim": (4, 4096), "depth": (1, 64), "heads": (1, 256), "mlp_ratio": (0.25, 64.0),
    "decoder_dim": (4, 4096), "decoder_depth": (1, 64), "decoder_heads": (1, 256),
    "decoder_mlp_ratio": (0.25, 64.0), "patch": (3, 31), "pca_components": (1, 1024), "cnn_channels": (1, 256),
}
"""Bounds of each setting: far beyond any model worth training, close enough that a damaged
or hostile model file cannot make the model builder loop or allocate for ever."""


FUSIONS = ("sum", "no_cnn")
"""How the classifier combines its branches: "sum" (the paper's: spatial and spectral class
tokens plus the CNN features) or "no_cnn" (the two class tokens only, no CNN branch)."""

READOUTS = ("class_token", "pixel_mean")
"""What the classifier reads from the spatial branch: its class token (the paper's, and what lets
the last block compute that token alone) or the mean of its pixel tokens after the last block.
The spectral branch gives its class token either way."""


def _number_within(value: Any, kind: type, low: float, high: float) -> bool:
    """Whether value is a number of the kind (an int passes for a float, a bool for neither) in [low, high]."""
    kinds = (int, float) if kind is float else (int,)
    return not isinstance(value, bool) and isinstance(value, kinds) and low <= value <= high


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the SS-MAE encoder, its decoders and the classifier's CNN branch."""

    dim: int = 256
    depth: int = 2
    heads: int = 8
    mlp_ratio: float = 4.0
    decoder_dim: int = 256
    decoder_depth: int = 2
    decoder_heads: int = 8
    decoder_mlp_ratio: float = 4.0
    patch: int = 7
    pca_components: int = 30
    cnn_channels: int = 8
    fusion: str = "sum"
    readout: str = "class_token"

    def __post_init__(self) -> None:
        for name, allowed in (("fusion", FUSIONS), ("readout", READOUTS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r:.40}.")
        for name, (low, high) in _LIMITS.items():
            value = getattr(self, name)
            kind = float if name.endswith("ratio") else int
            if not _number_within(value, kind, low, high):
                what = "a number" if kind is float else "a whole number"
                raise ValueError(f"{name} must be {what} from {low} to {high}; got {value!r:.30}.")
        if self.patch % 2 == 0:
            raise ValueError(f"The patch size must be an odd number of at least 3; got {self.patch}.")
        for name in ("dim", "decoder_dim"):
            width, heads = getattr(self, name), getattr(self, name.replace("dim", "heads"))
            if width % 4:
                raise ValueError(f"{name} ({width}) must be a multiple of 4, as its position embedding needs.")
            if width % heads:
                raise ValueError(f"{name} ({width}) must be a multiple of its number of heads ({heads}).")

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Any) -> "ModelConfig":
        """The configuration a dict gives, every setting named; ValueError when it is not one.

        Settings added after the first model files (OPTIONAL) take their default when absent."""
        if not isinstance(values, dict):
            raise ValueError("The model settings are not a set of named values.")
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"Unknown model settings: {', '.join(unknown)[:200]}.")
        missing = [name for name in known if name not in values and name not in OPTIONAL]
        if missing:
            raise ValueError(f"Missing model settings: {', '.join(missing)}.")
        return cls(**values)


OPTIONAL = ("fusion", "readout")
"""Settings an older model file may lack."""

PRESETS: Dict[str, ModelConfig] = {
    # SS-MAE as published: dim 256, depth 2, 8 heads, gated MLP ratio 4, patch 7,
    # decoders of the same width and depth 2, PCA to 30 components for the CNN branch.
    "paper": ModelConfig(),
    # For CPUs: a narrower encoder and a one-block decoder.
    "small": ModelConfig(dim=96, depth=2, heads=4, mlp_ratio=2.0, decoder_dim=64,
                         decoder_depth=1, decoder_heads=4, decoder_mlp_ratio=2.0,
                         pca_components=20, cnn_channels=4),
    # For tests: seconds on a CPU.
    "tiny": ModelConfig(dim=32, depth=1, heads=2, mlp_ratio=2.0, decoder_dim=32,
                        decoder_depth=1, decoder_heads=2, decoder_mlp_ratio=2.0, patch=5,
                        pca_components=6, cnn_channels=2),
}


def preset(name: str) -> ModelConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"Unknown preset '{name}'; choose one of {', '.join(PRESETS)}.") from None
