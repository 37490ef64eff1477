"""The errors the project raises on purpose.

Every message is written for an analyst: what is wrong, naming the layer, file or
parameter, and what to do about it. The Processing algorithms show it as it is.
"""

from typing import Union


class MrsError(Exception):
    """Base of every deliberate error of the project."""


class InputError(MrsError):
    """A layer, parameter or set of samples that cannot be used."""


class ReadError(InputError):
    """A read of a layer that failed, or that met its file changed under the run: under torchrun the
    process' own, which it says itself (the refusals before the work, alike on every process of a
    machine, are said by the first of them)."""


class ChangedFileError(ReadError):
    """A layer's file that another program wrote while the run read it, so that what was read may mix
    its old and new contents (`Scene._read_done`). `voted`: under torchrun, every process raises it
    with the first one's sentence, as they voted on it; else this process alone saw it."""

    def __init__(self, message: str, voted: bool = False) -> None:
        super().__init__(message)
        self.voted = voted


class ModelFileError(MrsError):
    """A model file that cannot be used."""


class BandCountError(ModelFileError):
    """A model made for other band counts than the layers give: `expected` and `given` are the
    (HSI, SAR/LiDAR) band counts of the model and of the layers."""

    def __init__(self, message: str, expected: tuple = (), given: tuple = ()) -> None:
        super().__init__(message)
        self.expected, self.given = tuple(expected), tuple(given)


class WriteError(MrsError):
    """An output that could not be written (disk full, no permission); the file it would replace is unchanged."""


class OutOfMemory(MrsError):
    """A run for which the machine's memory, or a limit set on the process's, is too small."""


class DivergedError(MrsError):
    """A training whose loss stopped being a finite number: what it would write is no model."""


class ProcessLostError(MrsError):
    """Another process of a multi-process (torchrun) run stopped."""


class DeviceError(MrsError):
    """A compute device that is not available."""


class Canceled(MrsError):
    """The user canceled the run. `voted`: under torchrun, every process of the run stops with it,
    as they voted together (the batches' and the tiles' cancel vote); else this process stops
    before the others know, which may be in another exchange (`distributed.end_process`)."""

    def __init__(self, message: str = "Canceled by the user.", voted: bool = False) -> None:
        super().__init__(message)
        self.voted = voted


def canceled_with_the_others(own: bool) -> Canceled:
    """The cancel of a process of a torchrun run that stops as the others voted: by the user where
    it was canceled itself (`own`), else because another process was (a helper's red team of
    2026-12-05: rank 0 said 'Canceled by the user.' when only rank 1 got SIGTERM)."""
    return Canceled(voted=True) if own else Canceled("Stopped as another process of this torchrun run was stopped "
                                                     "(its message says why).", voted=True)


def says_out_of_memory(error: BaseException) -> bool:
    """Whether an error's text is that of a failed allocation: torch's CPU allocator's, a GPU's."""
    text = str(error).lower()
    return "out of memory" in text or "can't allocate memory" in text


QUOTED_WIDTH = 200
"""The most characters of a library's error a sentence quotes."""


def first_line(error: Union[BaseException, str]) -> str:
    """The first line of an error's text, or of a text already taken from one (its type's name when
    it has none), shortened to 200 characters: what a sentence quotes of a library's error."""
    line = " ".join((str(error).strip().splitlines() or [type(error).__name__])[0].split())
    if len(line) <= QUOTED_WIDTH:
        return line
    keep = QUOTED_WIDTH - len(" ...")
    head = line[:keep]
    # a word cut in two is dropped, unless it is most of the line: textwrap.shorten dropped a long path whole,
    # and quoted '...' alone (a helper's mutation audit of 2026-12-07)
    if line[keep] != " " and " " in head[QUOTED_WIDTH // 2:]:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip() + " ..."
