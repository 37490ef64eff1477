"""What the caller calls the things model_core's messages mention.

model_core knows nothing of its front ends: a message that tells the analyst which step
makes a file, or which setting to change, uses the names the caller passes (the `what=`
pattern of `loading`, for several names at once). The defaults are plain words; the
engine passes the names of the Processing algorithms and their parameters, which
bin/mrs shares (`jobs.FRONT_END`).
"""

from dataclasses import dataclass, field
from typing import Mapping, Sequence


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
    settings: Mapping[str, str] = field(default_factory=dict)
    """The caller's names of training and masking settings, by their names in `settings`
    ({"lr": "the learning rate"}); a setting not in it is called by its own name."""

    samples: Mapping[str, str] = field(default_factory=lambda: {
        "pretraining": "other layers, mask, extent, number of samples or seed",
        "fine-tuning": "other layers or labels, another validation fraction or seed, or another pretrained model, "
                       "whose statistics normalise them"})
    """What makes a training phase's samples ({phase name: words}), for a checkpoint of other samples."""

    def setting(self, key: str) -> str:
        return self.settings.get(key, key)

    def samples_set_by(self, phase: str) -> str:
        return self.samples.get(phase, "other layers, labels, extent or seed")


def mismatch_outcome(pretrained: bool, likely: bool = False) -> str:
    """What layers unlike a model's cost (`likely`: may cost): a classifier's map is wrong; a pretrained
    model is fine-tuned on the layers given, so the classifier learns them and only its pretraining
    helps less (a helper's red team of 2026-12-05: 'else the map will be wrong' of a fine-tuning that
    mapped right)."""
    if pretrained:
        return f"its pretraining {'may' if likely else 'will'} help the classifier less"
    return "the map may be worse" if likely else "the map will be wrong"


def agreeing(count: int, singular: str, plural_form: str) -> str:
    """The verb that agrees with a count: agreeing(1, "holds", "hold") -> "holds"."""
    return singular if count == 1 else plural_form


def joined(items: Sequence[str], word: str = "and") -> str:
    """'a', 'a and b', 'a, b and c' (`word` 'or': 'a, b or c'); '' for none."""
    return ", ".join(items[:-1]) + f" {word} {items[-1]}" if len(items) > 1 else "".join(items)


def plural(count: int, word: str, words: str = "") -> str:
    """A count with its word for messages: plural(1, "tile") -> "1 tile", plural(3, "tile") -> "3 tiles",
    plural(2304, "pixel") -> "2,304 pixels" (as the other counts of a log are written: a helper's red
    team of 2026-12-05 read '2304 valid pixels' and '2,304 pixels classified' in one log); `words`
    for a plural that is not the word and an s (plural(2, "batch", "batches"))."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"


def byte_size(count: int) -> str:
    """'400 bytes', '4 KB', '12.3 MB', '1.2 GB', '3.5 TB' (powers of 1000, as file managers show disk space); the
    unit is the one the rounded figure stays below 1000 in (999,999 bytes were '1000 KB', 400 '0 KB':
    a helper's mutation audit of 2026-12-06)."""
    if count < 1000:
        return plural(count, "byte")
    for size, unit, decimals in ((1e3, "KB", 0), (1e6, "MB", 1), (1e9, "GB", 1)):
        text = f"{count / size:.{decimals}f}"
        if float(text) < 1000:
            return f"{text} {unit}"
    return f"{count / 1e12:.1f} TB"


def value_text(value: float, digits: int = 17) -> str:
    """A value as it can be typed back (into gdal_edit.py -a_nodata, say): a whole one below 1e15 with
    every digit (-2147483648 was '-2.14748e+09', which declared as nodata matched no pixel: a helper's
    red team of 2026-12-07), another to `digits` significant digits (8 give every one of float32's)."""
    value = float(value)
    return f"{int(value)}" if value.is_integer() and abs(value) < 1e15 else f"{value:.{digits}g}"


def share_text(share: float, decimals: int = 0) -> str:
    """'37 %' (of `decimals` decimals: '37.2 %'), and '<1 %' or '>99 %' ('<0.1 %', '>99.9 %') for a
    share that rounding would show as none or all (a helper's review of 2026-12-05: '1 of the 40000
    reference pixels (0 %)'; one of 2026-12-06: 199 of 200 samples lost said as '100 %')."""
    step = 10.0 ** -decimals
    shown = round(100 * share, decimals)
    if 0 < share and shown < step:
        return f"<{step:.{decimals}f} %"
    if share < 1 and shown > 100 - step:
        return f">{100 - step:.{decimals}f} %"
    return f"{100 * share:.{decimals}f} %"
