"""Atomic file replacement: a file is either the old one, the complete new one, or absent."""

import contextlib
import glob
import os
import tempfile
from typing import Iterator


def fsync_file(path: str) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_output(path: str, suffix: str = "") -> Iterator[str]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename.

    The temporary name starts with a dot and ends in '.partial' plus `suffix`, in the
    same folder so the rename is atomic. On any exception (cancel included) the
    temporary file is removed and `path` is left as it was. Temporary files that a
    killed process left for the same path are removed first.
    """
    folder, name = os.path.split(os.path.abspath(path))
    for stale in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(name)}.*.partial{suffix}")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stale)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=f".partial{suffix}", dir=folder)
    os.close(handle)
    try:
        yield temporary
        fsync_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
