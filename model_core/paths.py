"""File names the readers and writers cannot take."""

import os
import stat
from typing import Optional, Tuple, Type

from .atomic import recover_set_aside
from .errors import InputError, MrsError


def undecodable_name(path: str, what: str) -> Optional[str]:
    """Why a path whose bytes are not UTF-8 cannot be used (a name from an old archive, in
    Latin-1: Python holds its odd bytes as surrogates, which GDAL refuses as 'not a string' and
    safetensors as a damaged file), or None."""
    try:
        path.encode("utf-8")
        return None
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        return (f"{what}: the file name {shown} is not valid UTF-8 text (as names from old archives can be), which "
                "the plugin cannot open or write; rename the file (or folder) and run again.")


def check_decodable(path: str, what: str, error: Type[MrsError] = InputError) -> None:
    """Raises `error` with `undecodable_name`'s sentence for a path that is not UTF-8."""
    problem = undecodable_name(path, what)
    if problem:
        raise error(problem)


def not_a_readable_file(path: str, folders: bool = False) -> Optional[str]:
    """Why `path` cannot be read as a file ('does not exist', 'is a named pipe (FIFO), not a
    file', 'cannot be read (permission denied)'...), or None. A pipe or a device would block a
    reader forever, and one without permission ended in a traceback (red team of 2026-12-04).
    `folders`: a folder is readable too (some raster and vector formats are folders)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if path.startswith("file://"):  # said not to exist (a helper's red team of 2026-12-07)
            return f"is a file's address, not a path: give the path without 'file://' ({path[len('file://'):]})"
        if not recover_set_aside(path):  # an earlier output a killed run left aside comes back
            return "does not exist"
        mode = os.stat(path).st_mode
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    kinds = (((stat.S_ISDIR, "a folder"),) if not folders else ()) + (
        (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"))
    found = next((f"is {name}, not a file" for test, name in kinds if test(mode)), None)
    if found:
        return found
    return None if os.access(path, os.R_OK) else "cannot be read (permission denied)"


def file_state(path: str) -> Optional[Tuple[int, int, int]]:
    """What tells a file apart from another written in its place: identity, size and time; None
    where there is none."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns


def why_gone(path: str) -> str:
    """Why a file has no `file_state` now, in words: 'was removed or moved', or the system's reason
    (a folder made unreadable, a file server's stale handle: a review of 2026-12-06)."""
    try:
        os.stat(path)
    except OSError as error:
        if not isinstance(error, FileNotFoundError):
            return f"can no longer be reached ({error.strerror or error})"
    return "was removed or moved"


CHECKPOINT_END = ".checkpoint.safetensors"


def checkpoint_path_for(output_path: str) -> str:
    """Where a run writing `output_path` keeps its checkpoint."""
    return os.path.splitext(output_path)[0] + CHECKPOINT_END


def output_path_of(checkpoint_path: str) -> Optional[str]:
    """The model file whose run keeps `checkpoint_path` (`checkpoint_path_for`'s inverse), or None: the
    one there is of any case of '.safetensors' (a helper's red team of 2026-12-06 was told of
    'UP2.safetensors' for its 'UP2.SAFETENSORS'), else the lower-case one."""
    if not checkpoint_path.endswith(CHECKPOINT_END):
        return None
    stem = checkpoint_path[:-len(CHECKPOINT_END)]
    if os.path.exists(stem + ".safetensors"):
        return stem + ".safetensors"
    folder, name = os.path.split(stem)
    try:
        found = sorted(entry for entry in os.listdir(folder or ".")
                       if entry.startswith(name) and entry[len(name):].lower() == ".safetensors")
    except OSError:
        found = []
    return os.path.join(folder, found[0]) if found else stem + ".safetensors"
