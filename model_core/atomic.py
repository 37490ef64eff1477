"""Atomic file replacement: a file is either the old one, the complete new one, or absent."""

import contextlib
import errno
import json
import os
import re
import shutil
import stat
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple

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
    errno.EMFILE: ("this process has as many files open as it may (a limit such as ulimit -n)",
                   "raise the limit of open files (ulimit -n 1024, say)"),
    errno.ENFILE: ("the system has as many files open as it may", "close other programs or raise the system's limit"),
}
"""What a failed write's error number means to an analyst, and what to do; other errors give
their own words, and 'choose another folder'."""


FULL_DISK_BYTES = 1 << 20
"""Free space below which a failed write whose library names no cause is put down to a full disk."""


def says_too_large(message: str) -> bool:
    """Whether a library's message says that a write went past the file-size limit (EFBIG), in English or in
    the words of the locale QGIS sets ('Die Datei ist zu groß': a helper's red team of 2026-12-06 got the
    full-disk advice in German)."""
    said = message.lower()
    return any(text in said for text in ("file too large", os.strerror(errno.EFBIG).lower()))


def soft_limit(name: str) -> Optional[int]:
    """This process's soft limit `name` of the resource module ('RLIMIT_FSIZE': ulimit -f,
    'RLIMIT_AS': ulimit -v) in bytes; None for none (or on Windows, which has no such limits)."""
    try:
        import resource
    except ImportError:
        return None
    soft, _hard = resource.getrlimit(getattr(resource, name))
    return None if soft == resource.RLIM_INFINITY else soft


def largest_file_bytes() -> Optional[int]:
    """The largest file this process may write (its file-size limit, ulimit -f); None for no limit."""
    return soft_limit("RLIMIT_FSIZE")


def free_bytes(path: str) -> Optional[int]:
    """The free space of the file system that holds `path` (a file or folder) for this process;
    None where it cannot be told."""
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return None
    return usage.free if usage.total else None  # a file system that tells nothing (some FUSE ones) says 0 of 0


def disk_full(path: str) -> bool:
    """Whether the file system of `path` has (nearly) no free space left: a failed write that GDAL
    or SQLite says nothing useful of ('no such table', red team of 2026-12-05) is put down to it."""
    free = free_bytes(path)
    return free is not None and free < FULL_DISK_BYTES


def why_and_advice(error: OSError) -> Tuple[str, str]:
    """Why a write failed, in an analyst's words, and what to do (`_WHY`)."""
    return _WHY.get(error.errno, (error.strerror or str(error), "choose another folder"))


def why_not_written(path: str, error: OSError) -> Tuple[str, str]:
    """`why_and_advice` of a failed write of `path`, its folder said where it is gone."""
    why, advice = why_and_advice(error)
    folder = os.path.dirname(os.path.abspath(path))
    if error.errno == errno.ENOENT and not os.path.isdir(folder):  # red team of 2026-12-05
        why = f"its folder {folder} is gone (moved or deleted during the run)"
    if error.errno in (errno.ENOSPC, errno.EDQUOT) and _no_file_entries(folder):
        why, advice = ("the disk has no file entries left (inodes, or a quota of files), though it may have space",
                       "delete some files or choose another folder")
    return why, advice


def _no_file_entries(folder: str) -> bool:
    """Whether the file system of `folder` can take no new file though it may have space: out of
    inodes, or a quota of files, common on shared servers (a helper's red team of 2026-12-07: 'the
    disk is full' with 20 MB free)."""
    try:
        entries = os.statvfs(folder)
    except (OSError, AttributeError):  # Windows has no statvfs
        return False
    return entries.f_files > 0 and entries.f_favail == 0


def write_error(path: str, error: OSError) -> WriteError:
    """One sentence for a failed write of `path`: which file, why, that nothing was replaced (or
    written, where there was no earlier file) and what to do."""
    why, advice = why_not_written(path, error)
    kept = (f"Nothing was replaced (an earlier {os.path.basename(path)} is unchanged)" if os.path.lexists(path)
            else "Nothing was written")
    return WriteError(f"Could not write {path}: {why}. {kept}; {advice}, and run again.")


def fsync_file(path: str) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def temporary_names(path: str) -> "re.Pattern[str]":
    """The names of the temporary files written for `path`: `.<name>.<8 random characters>.partial`
    (mkstemp's), followed by a side file's suffix or nothing, and those SQLite keeps beside a
    GeoPackage while it writes (a killed run's -journal stayed: helper, 2026-12-05)."""
    return re.compile(rf"\.{re.escape(os.path.basename(path))}\.[a-z0-9_]{{8}}\.partial(\.[A-Za-z0-9.]+)?"
                      rf"({'|'.join(SQLITE_SIDE_FILES)})?")


def make_temporary(path: str, suffix: str = "") -> Tuple[int, str]:
    """A new temporary file for `path` (`.<name>.<random>.partial<suffix>` beside it) and its open
    descriptor, which holds an exclusive lock on it until it is closed, so that another run takes
    the file for one being written, not for one a killed run left (`remove_stale_temporaries`)."""
    folder, name = os.path.split(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=f".partial{suffix}", dir=folder)
    if fcntl is not None:
        with contextlib.suppress(OSError):  # a file system without locks: the file is merely unmarked
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _HELD[temporary] = handle
    return handle, temporary


_HELD: Dict[str, int] = {}
"""The temporary files this process made (`make_temporary`) and the descriptors it holds them by: live
without a look while that descriptor is still open on them, as opening and closing one (`_being_written`)
would drop the POSIX locks SQLite holds on a GeoPackage written there."""
SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")


def remove_own(handle: int, temporary: str) -> None:
    """Closes and removes a temporary file of this run (`make_temporary`), found by its descriptor
    where its folder was moved meanwhile (a helper's red team of 2026-12-06: a run whose output's folder
    was moved said 'Nothing was written' and left its hidden files there); one that cannot be
    removed is left, for the next run on its output (`remove_stale_temporaries`)."""
    _HELD.pop(temporary, None)
    try:
        os.unlink(temporary)
    except FileNotFoundError:
        moved = _current_path(handle)
        if moved and os.path.basename(moved) == os.path.basename(temporary):
            with contextlib.suppress(OSError):
                os.unlink(moved)
    except OSError:
        pass
    os.close(handle)


def _current_path(handle: int) -> Optional[str]:
    """Where the file open as `handle` is now (Linux's /proc), or None where that cannot be told."""
    try:
        return os.readlink(f"/proc/self/fd/{handle}")
    except OSError:
        return None


def _being_written(path: str) -> bool:
    """Whether a live run holds the lock of `make_temporary` on the file (SQLite's side files, which
    it never locks so, are not opened)."""
    if path in _HELD:
        try:
            if os.path.samestat(os.fstat(_HELD[path]), os.stat(path)):
                return True
        except OSError:  # closed since
            pass
        _HELD.pop(path, None)
    if fcntl is None or path.endswith(SQLITE_SIDE_FILES):
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


def _leftovers(path: str) -> Tuple[List[str], List[str]]:
    """The temporary files beside `path` written for it, and those of them a live run holds: any it
    has locked, its data's temporary file ('.m.safetensors.x.partial.safetensors') too, which a run
    refused as 'being written' deleted, and the live run's model was lost (a helper's mutation audit of
    2026-12-06)."""
    folder = os.path.dirname(os.path.abspath(path))
    pattern = temporary_names(path)
    try:
        found = [entry.path for entry in os.scandir(folder)
                 if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError, PermissionError):  # a folder one may enter but not list (0711)
        return [], []
    return found, [found_path for found_path in found if _being_written(found_path)]


def recover_set_aside(path: str) -> bool:
    """Brings back the file that a run killed while publishing had moved aside from `path`
    (`replace_together`), when nothing took its place and no run on `path` is live; whether it
    did. The output was hidden from every reader until a run wrote to that name again (a checkpoint
    to resume from and a pretrained model 'did not exist'), and then deleted with the leftovers
    (red team of 2026-12-04)."""
    _roll_back_stopped_sets(path)
    if os.path.lexists(path):
        return False
    found, live = _leftovers(path)
    aside = sorted((found_path for found_path in found if found_path.endswith(ASIDE)), key=os.path.getmtime)
    if live or not aside:
        return False
    try:
        os.replace(aside[-1], path)
    except OSError:
        return False
    return True


def remove_stale_temporaries(path: str) -> List[str]:
    """Remove the temporary files that a killed run left for `path` (and no other file), after
    bringing back an earlier output one left aside (`recover_set_aside`); returns those a live run
    is writing (its temporary file and their side files, and what it moved aside, are kept)."""
    recover_set_aside(path)
    return _remove_leftovers(path)


def _remove_leftovers(path: str) -> List[str]:
    """`remove_stale_temporaries` without bringing anything back."""
    found, live = _leftovers(path)
    for found_path in found:
        if any(found_path.startswith(written) for written in live) or (live and found_path.endswith((ASIDE, JOURNAL))):
            continue
        try:
            os.unlink(found_path)
        except FileNotFoundError:
            pass
        except PermissionError:
            # Windows: open in a live run. Elsewhere: another user's, in a folder this one may not remove it from
            # (sticky, or read-only), which no run holds; it stays, and runs go on (it was said to be a live run's
            # for ever: a helper's mutation audit of 2026-12-07)
            if os.name == "nt":
                live.append(found_path)
    return live


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status", encoding="ascii") as status:
            return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The permissions a new file gets under the umask (mkstemp makes its temporary files 0600, SQLite
    its databases 0644)."""
    return 0o666 & ~_umask()


def output_mode(path: str) -> int:
    """The permissions for a file written at `path`: those of the file it replaces, else `new_file_mode`."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return new_file_mode()


def publish(temporary: str, path: str, mode: Optional[int] = None) -> None:
    """Give a complete temporary file the output's permissions (`mode`, by default
    `output_mode(path)`) and rename it over `path`."""
    os.chmod(temporary, output_mode(path) if mode is None else mode)
    os.replace(temporary, path)


@contextlib.contextmanager
def held(path: str) -> Iterator[str]:
    """Mark `path` as being written while the block runs: a locked, empty temporary file beside
    it (`make_temporary`, the path yielded), removed after, for which `remove_stale_temporaries`
    reports a live run.
    A training writes its model file at its end only, so a second run on the same output started
    and wrote the first one's checkpoint (red team of 2026-12-04)."""
    try:
        handle, temporary = make_temporary(path)
    except OSError as error:
        raise write_error(path, error) from error
    try:
        yield temporary
    finally:
        # a folder made read-only meanwhile keeps it: the run's own error must not give way to this one
        remove_own(handle, temporary)  # (red team of 2026-12-05); the next run removes it


class ReplaceError(OSError):
    """A file of a set that could not be put in place (`replace_together`); none of the set was."""

    def __init__(self, path: str, error: OSError) -> None:
        super().__init__(error.errno, error.strerror)
        self.path, self.cause = path, error


ASIDE = ".partial.old"
"""The end of the name an existing output is moved aside to while a run puts its files in place."""
JOURNAL = ".partial.set"
"""The end of the names of a set's journal (`replace_together`), one beside each of its paths."""


def _aside_name(path: str) -> str:
    """A temporary name beside `path` to move it aside to (`make_temporary`'s, so that the next run
    finds a killed run's leftover: `remove_stale_temporaries`); the name holds an empty file."""
    handle, aside = make_temporary(path, ".old")
    os.close(handle)
    return aside


def replace_together(moves: Sequence[Tuple[Optional[str], str]]) -> None:
    """Puts each complete temporary file in place of its path, and removes the paths given None
    (stale side files), all or none: every existing path is first moved aside, and on any failure
    what was put in place is removed and what was moved aside comes back. A map replaced while its
    style could not be (a file held open elsewhere) lost its old side files and kept a new map
    beside an old style (red team of 2026-12-04); the failing path is named in `ReplaceError`.
    A set of several paths keeps a journal beside each while it moves them, so that a run killed
    meanwhile leaves a set the next run brings back whole (`_roll_back_stopped_sets`)."""
    modes = {path: output_mode(path) for _temporary, path in moves}
    aside: List[Tuple[str, str]] = []
    earlier: Dict[str, Tuple[int, int]] = {}
    moved: Set[str] = set()
    placed: List[str] = []
    current = ""
    journals: List[Tuple[int, str]] = []
    try:  # each step is recorded before it is taken: a second Ctrl-C just after one is undone too
        for _temporary, current in moves:
            if os.path.lexists(current):
                earlier[current] = _identity(current)
                aside.append((_aside_name(current), current))
        if len(moves) > 1:
            journals = _journals_or_none(moves, {path: name for name, path in aside}, earlier)
        for name, current in aside:
            os.replace(current, name)
            moved.add(current)
        for temporary, current in moves:
            if temporary is not None:
                placed.append(current)
                publish(temporary, current, modes[current])
    except BaseException as error:  # a second Ctrl-C between the steps too: it left the earlier file aside
        for path in placed:
            with contextlib.suppress(OSError):
                os.unlink(path)
        for name, path in reversed(aside):
            with contextlib.suppress(OSError):
                # Moved (known, or by its identity: a Ctrl-C just after the move): it comes back, over a new
                # file that could not be removed too; else the name it was to take goes (a run beside this
                # one that moved it away left this run's empty name in its place: a review of 2026-12-05).
                if path in moved or _same_file(_identity(name), earlier[path]):
                    os.replace(name, path)
                else:
                    os.unlink(name)
        _remove_journals(journals[1:] + journals[:1])
        if isinstance(error, OSError):
            raise ReplaceError(current, error) from error
        raise
    if journals:  # whole and new from here on: what a killed run left aside is stale
        _commit(journals[0], moves[0][1])
        journals[0] = (-1, journals[0][1])  # its handle closed by the commit
    for name, _path in aside:
        with contextlib.suppress(OSError):
            os.unlink(name)
    _remove_journals(journals[1:] + journals[:1])  # the first, which says whether the set was committed, last


def _journals_or_none(moves: Sequence[Tuple[Optional[str], str]], asides: Dict[str, str],
                      earlier: Dict[str, Tuple[int, int]]) -> List[Tuple[int, str]]:
    """`_write_journals`, or none where they cannot be written (a full disk; on Windows, a set across
    two drives, which no relative name joins: a review of 2026-12-05): the set is then put in place
    as before journals, whole unless killed."""
    journals: List[Tuple[int, str]] = []
    try:
        return _write_journals(moves, asides, earlier, journals)
    except (OSError, ValueError):
        _remove_journals(journals)
        return []


def _write_journals(moves: Sequence[Tuple[Optional[str], str]], asides: Dict[str, str],
                    earlier: Dict[str, Tuple[int, int]], journals: List[Tuple[int, str]]) -> List[Tuple[int, str]]:
    """One journal beside each path of a set (`make_temporary`'s, locked while the run lives), each
    naming every journal (the first says whether the set was committed: `_commit`), every path, the
    name its earlier file is moved aside to and that file's identity (None where there was none), so
    that a name taken but not moved to yet is told from an earlier file moved there. The names are
    written relative to each journal's folder, so that a folder moved or reached another way since
    is understood (a review of 2026-12-05)."""
    for _temporary, path in moves:  # `journals` holds each as it is made, for its removal on failure
        journals.append(make_temporary(path, JOURNAL[len(".partial"):]))
    for handle, journal in journals:
        here = os.path.dirname(os.path.abspath(journal))

        def named(name: Optional[str]) -> Optional[str]:
            return None if name is None else os.path.relpath(os.path.abspath(name), here)

        record = {"journals": [named(other) for _handle, other in journals],
                  "moves": [{"path": named(path), "aside": named(asides.get(path)),
                             "file": list(earlier[path]) if path in asides else None} for _temporary, path in moves]}
        os.write(handle, json.dumps(record).encode("utf-8"))
    return journals


def _same_file(identity: Tuple[int, int], earlier: Optional[Tuple[int, int]]) -> bool:
    """Whether two identities are one file's; a file system that numbers no file (0, some SMB
    shares) tells nothing (a review of 2026-12-05)."""
    return earlier is not None and earlier[1] != 0 and identity == earlier


def _identity(path: str) -> Tuple[int, int]:
    """A file's device and number, which a rename keeps."""
    status = os.lstat(path)
    return status.st_dev, status.st_ino


def _commit(first: Tuple[int, str], path: str) -> None:
    """Marks a set's first journal (beside its first `path`) committed, in one rename: a run killed from
    here on left the new set whole, and its leftovers are stale (a commit that was the first journal's
    removal hid the others from a next run writing that path alone: a helper's red team of 2026-12-05).
    The new journal is written under a journal's name of `path`, which a next run removes if left;
    the first one's handle, whose lock marks a live run, is closed after (before on Windows, which
    replaces no open file). A commit that cannot be written removes the first journal, which leaves
    the set as it is, new."""
    handle, journal = first
    if os.name == "nt":
        os.close(handle)
    try:
        with open(journal, encoding="utf-8") as stream:
            record = json.load(stream)
        out, committed = make_temporary(path, JOURNAL[len(".partial"):])
        try:
            os.write(out, json.dumps({**record, "committed": True}).encode("utf-8"))
        finally:
            os.close(out)
        os.replace(committed, journal)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(journal)
    if os.name != "nt":  # held through the rename: a run beside took the set for a killed one's (a review)
        os.close(handle)


def _committed(first: str) -> Optional[bool]:
    """Whether the set whose first journal is `first` was committed; None where that journal is gone
    or unreadable."""
    try:
        with open(first, encoding="utf-8") as stream:
            return bool(json.load(stream).get("committed"))
    except (OSError, ValueError, AttributeError):
        return None


def _remove_journals(journals: Sequence[Tuple[int, str]]) -> None:
    for handle, journal in journals:
        if handle >= 0:
            os.close(handle)  # first: Windows deletes no file open
        with contextlib.suppress(OSError):
            os.unlink(journal)


def _roll_back_stopped_sets(path: str) -> None:
    """Brings back whole the earlier files of a set that a run killed while moving it put partly in
    place (`replace_together`: a new map beside the old style and confidence raster, which the next
    run then kept: a helper's red team of 2026-12-05): each earlier file returns from aside, and a
    file new to the set is removed. A set whose first journal says it was committed was put in place
    whole: the earlier files its journals name are stale (a stale side file came back beside the new
    map: a review of 2026-12-05). A journal that is not one the plugin wrote there is removed alone.
    The set's other files' leftovers go too (`_remove_leftovers`: a run writing fewer outputs left
    the confidence raster's, a helper's red team of 2026-12-05)."""
    found, _live = _leftovers(path)
    for journal in (item for item in found if item.endswith(JOURNAL) and not _being_written(item)):
        record = _journal_record(journal, path)
        if record is None:
            with contextlib.suppress(OSError):
                os.unlink(journal)
            continue
        journals, moves = record
        complete = all(os.path.lexists(name) for name in journals)  # else partly removed, or a file put there
        committed = _committed(journals[0])
        if committed is None:  # its first journal gone: nothing known of the set but this journal
            with contextlib.suppress(OSError):
                os.unlink(journal)
            continue
        if not committed:
            if any(_being_written(item) for item in journals):
                continue  # a live run's
            for target, aside, earlier in moves if complete else ():  # a journal alone undoes nothing (a review)
                with contextlib.suppress(OSError):
                    _take_back(target, aside, earlier)
        for _target, aside, _earlier in moves if committed else ():
            with contextlib.suppress(OSError):
                if aside:
                    os.unlink(aside)
        for stale in journals[1:] + journals[:1]:
            with contextlib.suppress(OSError):
                os.unlink(stale)
        for target, _aside, _earlier in moves:
            if target != os.path.abspath(path):
                _remove_leftovers(target)


Move = Tuple[str, Optional[str], Optional[Tuple[int, int]]]
"""A journal's path, the name of its earlier file aside, and that file's identity (None, None: none)."""


def _journal_record(journal: str, path: str) -> Optional[Tuple[List[str], List[Move]]]:
    """The journals and moves a journal beside `path` names, as paths from that journal's folder, if
    it is one `_write_journals` wrote for a set that holds `path`: every name in it a temporary name
    of its path, beside it (else a file put there could have the plugin delete any file: a review of
    2026-12-05)."""
    here = os.path.dirname(os.path.abspath(journal))

    def placed(name: Any) -> Optional[str]:  # relative to the journal's folder, or absolute (across drives)
        return None if name is None else os.path.normpath(os.path.join(here, str(name)))

    try:
        with open(journal, encoding="utf-8") as stream:
            record = json.load(stream)
        journals = [placed(item) for item in record["journals"]]
        moves = [(placed(item["path"]), placed(item["aside"]),
                  item["file"] and (int(item["file"][0]), int(item["file"][1]))) for item in record["moves"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):  # killed while writing them
        return None

    def beside(name: Optional[str], target: Optional[str], end: str) -> bool:
        return (name is None or (target is not None and os.path.dirname(name) == os.path.dirname(target)
                                 and name.endswith(end)
                                 and bool(temporary_names(target).fullmatch(os.path.basename(name)))))

    sound = (len(journals) == len(moves) and os.path.abspath(journal) in journals
             and os.path.abspath(path) in [target for target, _aside, _earlier in moves]
             and all(name is not None and beside(name, target, JOURNAL) and beside(aside, target, ASIDE)
                     for name, (target, aside, _earlier) in zip(journals, moves)))
    return (journals, moves) if sound else None  # type: ignore[return-value]


def _take_back(target: str, aside: Optional[str], earlier: Optional[Tuple[int, int]]) -> None:
    """One path of a stopped set as it was: its earlier file from aside where it was moved there, or
    no file where it had none. A name taken but not moved to yet holds an empty file of another
    identity while the earlier file is still in place, and goes; an aside of another identity that is
    not empty, or whose path is empty, is the earlier file all the same (identities change when a
    file system is mounted again: a review of 2026-12-05)."""
    if aside is None:
        if os.path.lexists(target):
            os.unlink(target)
    elif os.path.lexists(aside):
        if _same_file(_identity(aside), earlier) or os.path.getsize(aside) or not os.path.lexists(target):
            os.replace(aside, target)
        else:
            os.unlink(aside)


@contextlib.contextmanager
def atomic_outputs(paths: Sequence[Tuple[str, str]]) -> Iterator[List[str]]:
    """Yield a temporary path beside each (path, suffix); on success they replace their paths
    together (`replace_together`), on any exception (cancel included) they are removed and every
    path is left as it was. The temporary names start with a dot and end in '.partial' plus the
    suffix, in the outputs' folders so that each rename is atomic; a failed write (disk full)
    becomes a WriteError naming the file. Temporary files that a killed process left for the
    same paths are removed first (not those a live run writes)."""
    opened: List[Tuple[int, str]] = []
    try:
        for path, suffix in paths:
            remove_stale_temporaries(path)
            try:
                opened.append(make_temporary(path, suffix))
            except OSError as error:
                raise write_error(path, error) from error
        temporaries = [temporary for _handle, temporary in opened]
        current = paths[0][0] if paths else ""
        try:
            yield temporaries
            for (current, _suffix), temporary in zip(paths, temporaries):
                fsync_file(temporary)
            replace_together([(temporary, path) for (path, _suffix), temporary in zip(paths, temporaries)])
        except ReplaceError as error:
            raise write_error(error.path, error.cause) from error
        except OSError as error:  # a write into one of the temporary files names it, else the last fsync'd one
            failed = dict(zip(temporaries, (path for path, _suffix in paths))).get(error.filename, current)
            raise write_error(failed, error) from error
    finally:
        for handle, temporary in opened:
            remove_own(handle, temporary)


@contextlib.contextmanager
def atomic_output(path: str, suffix: str = "") -> Iterator[str]:
    """`atomic_outputs` of one file: yield a temporary path beside `path`, which replaces `path`
    in one rename on success."""
    with atomic_outputs([(path, suffix)]) as temporaries:
        yield temporaries[0]
