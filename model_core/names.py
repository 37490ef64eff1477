"""What the caller calls the things model_core's messages mention.

model_core knows nothing of its front ends: a message that tells the analyst which step
makes a file, or which setting to change, uses the names the caller passes (the `what=`
pattern of `loading`, for several names at once). The defaults are plain words; the
engine passes the names of the Processing algorithms and their parameters, which
bin/mrs shares (`jobs.FRONT_END`).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    pretrain: str = "pretraining"
    """The step that writes pretraining models."""
    finetune: str = "fine-tuning"
    """The step that writes classifiers."""
    classify: str = "classification"
    """The step that uses a classifier."""
    pretrained: str = "the pretrained model"
    """Where fine-tuning takes a pretraining model."""
    resume: str = "resume_path"
    """Where a run takes the checkpoint it continues."""
    device: str = "The device"
    """The device setting, at the start of a sentence."""
    learning_rate: str = "the learning rate"
    """The learning-rate setting."""


def plural(count: int, word: str, words: str = "") -> str:
    """A count with its word for messages: plural(1, "tile") -> "1 tile", plural(3, "tile") -> "3 tiles";
    `words` for a plural that is not the word and an s (plural(2, "batch", "batches"))."""
    return f"{count} {word if count == 1 else words or word + 's'}"
