"""Atomic file replacement: a file is either the old one, the complete new one, or absent."""

import contextlib
import errno
import os
import re
import stat
import tempfile
from typing import Iterator, List, Optional, Tuple

from .errors import WriteError

try:
    import fcntl
except ImportError:  # Windows, where a file another process holds open cannot be removed anyway
    fcntl = None  # type: ignore[assignment]

_WHY = {
    errno.ENOSPC: ("the disk is full", "free some space or choose another folder"),
    errno.EDQUOT: ("the disk is full", "free some space or choose another folder"),
    errno.EFBIG: ("the file would be larger than this process may write (a file-size limit such as ulimit -f, or "
                  "the file system's largest file)", "raise the limit or choose another folder"),
}
"""What a failed write's error number means to an analyst, and what to do; other errors give
their own words, and 'choose another folder'."""


def write_error(path: str, error: OSError) -> WriteError:
    """One sentence for a failed write of `path`: which file, why, that nothing was replaced (or
    written, where there was no earlier file) and what to do."""
    why, advice = _WHY.get(error.errno, (error.strerror or str(error), "choose another folder"))
    kept = (f"Nothing was replaced (an earlier {os.path.basename(path)} is unchanged)" if os.path.lexists(path)
            else "Nothing was written")
    return WriteError(f"Could not write {path}: {why}. {kept}; {advice}, and run again.")


def fsync_file(path: str) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def temporary_names(path: str) -> "re.Pattern[str]":
    """The names of the temporary files written for `path`: `.<name>.<8 random characters>.partial`
    (mkstemp's), followed by a side file's suffix or nothing."""
    return re.compile(rf"\.{re.escape(os.path.basename(path))}\.[a-z0-9_]{{8}}\.partial(\.[A-Za-z0-9.]+)?")


def make_temporary(path: str, suffix: str = "") -> Tuple[int, str]:
    """A new temporary file for `path` (`.<name>.<random>.partial<suffix>` beside it) and its open
    descriptor, which holds an exclusive lock on it until it is closed, so that another run takes
    the file for one being written, not for one a killed run left (`remove_stale_temporaries`)."""
    folder, name = os.path.split(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=f".partial{suffix}", dir=folder)
    if fcntl is not None:
        with contextlib.suppress(OSError):  # a file system without locks: the file is merely unmarked
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return handle, temporary


def _being_written(path: str) -> bool:
    """Whether a live run holds the lock of `make_temporary` on the file."""
    if fcntl is None:
        return False
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(handle)


def remove_stale_temporaries(path: str) -> List[str]:
    """Remove the temporary files that a killed run left for `path` (and no other file); returns
    those a live run is writing (its temporary file and their side files are kept)."""
    folder = os.path.dirname(os.path.abspath(path))
    pattern = temporary_names(path)
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        found = [entry.path for entry in os.scandir(folder)
                 if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)]
        live = [found_path for found_path in found if found_path.endswith(".partial") and _being_written(found_path)]
        for found_path in found:
            if any(found_path.startswith(written) for written in live):
                continue
            try:
                os.unlink(found_path)
            except FileNotFoundError:
                pass
            except PermissionError:  # Windows: open in a live run
                live.append(found_path)
        return live
    return []


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status", encoding="ascii") as status:
            return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_mode(path: str) -> int:
    """The permissions for a file written at `path`: those of the file it replaces, else those
    a new file gets under the umask (mkstemp makes its temporary files 0600)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def publish(temporary: str, path: str, mode: Optional[int] = None) -> None:
    """Give a complete temporary file the output's permissions (`mode`, by default
    `output_mode(path)`) and rename it over `path`."""
    os.chmod(temporary, output_mode(path) if mode is None else mode)
    os.replace(temporary, path)


@contextlib.contextmanager
def held(path: str) -> Iterator[None]:
    """Mark `path` as being written while the block runs: a locked, empty temporary file beside
    it (`make_temporary`), removed after, for which `remove_stale_temporaries` reports a live run.
    A training writes its model file at its end only, so a second run on the same output started
    and wrote the first one's checkpoint (red team of 2026-12-04)."""
    try:
        handle, temporary = make_temporary(path)
    except OSError as error:
        raise write_error(path, error) from error
    try:
        yield
    finally:
        os.close(handle)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


@contextlib.contextmanager
def atomic_output(path: str, suffix: str = "") -> Iterator[str]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename.

    The temporary name starts with a dot and ends in '.partial' plus `suffix`, in the
    same folder so the rename is atomic. On any exception (cancel included) the
    temporary file is removed and `path` is left as it was; a failed write (disk
    full) becomes a WriteError naming the file. Temporary files that a killed
    process left for the same path are removed first (not those a live run writes).
    """
    remove_stale_temporaries(path)
    try:
        handle, temporary = make_temporary(path, suffix)
    except OSError as error:
        raise write_error(path, error) from error
    try:
        yield temporary
        fsync_file(temporary)
        publish(temporary, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise write_error(path, error) from error
        raise
    finally:
        os.close(handle)
