"""Publishing a build's outputs together or not at all, one build at a time per folder.

How a commit works (`staged_outputs(out, names)`):

1. **Lock.** `OUT/.build.lock` is locked with `flock` (exclusive, non-blocking).
   A second build into the same folder stops at once with `OutputBusy`, naming
   the process that holds the lock. The kernel drops the lock when its process
   ends, however it ends (even SIGKILL), so a lock can never be stale; the lock
   file is removed when the build finishes.
2. **Recover.** Folders `OUT/.staging-*` left by killed builds are dealt with:
   one that never started publishing is deleted; one killed while publishing is
   rolled back (the previous files, kept as hard links inside it, are put back)
   unless its last file had already been published, in which case the commit was
   complete and only the folder is removed. Temporary files of the older writer
   (`OUT/.NAME.*.tmp`, `OUT/.build-*/`) are removed too.
3. **Stage.** The caller gets a path inside a fresh `OUT/.staging-PID-XXXX/`
   for each name and writes its files there. Nothing in OUT has changed yet.
4. **Publish,** on normal exit of the `with` block, with SIGINT and SIGTERM held
   back until it is done: each staged file is flushed to disk and given a normal
   mode (the mode of the file it replaces, else 0666 minus the umask: 0644 under
   umask 022; never 0600); the current files are hard-linked into the staging
   folder as the way back; a journal is written; then the files are renamed into
   OUT in the order of `names`, **the last name last**. The last name should be
   the manifest (`datapackage.json`, which records the other files' hashes), so
   a reader that finds the manifest's hashes matching the files has a complete
   set. If a rename fails (for example `datapackage.json` is a folder or cannot
   be replaced), the files already renamed are put back as they were and the
   error is raised: OUT holds the previous set, unchanged.
5. **Abandon,** on any exception in the `with` block, including
   `KeyboardInterrupt` from Ctrl-C and from SIGTERM (handled like SIGINT while
   the block runs in the main thread): the staging folder is deleted and nothing
   in OUT changes.

After a SIGKILL between two renames, OUT can hold a new data file beside the
old manifest until the next build (or `recover(out)`) rolls it back; readers
detect it because the manifest's hashes do not match.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterator

from etl.errors import EtlError

LOCK_NAME = ".build.lock"
STAGING_PREFIX = ".staging-"
JOURNAL_NAME = "COMMIT.json"
_BACKUP_PREFIX = ".previous."


class OutputBusy(EtlError):
    """Another build holds the lock on the output folder."""


@contextlib.contextmanager
def staged_outputs(out: Path, names: list[str]) -> Iterator[dict[str, Path]]:
    """Yield a temporary path for each output name; publish them all on normal exit, none on any exception."""
    out = Path(out)
    if len(set(names)) != len(names) or any(Path(n).name != n or n.startswith(".") for n in names):
        raise ValueError(f"output names must be distinct plain file names, not {names!r}")
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out), _interrupts_raise():
        recover(out)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
        try:
            yield {name: staging / name for name in names}
            with _signals_held():
                _publish(out, staging, names)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def recover(out: Path) -> None:
    """Finish or undo what killed builds left in `out` (the caller holds the lock)."""
    for entry in sorted(Path(out).iterdir()):
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
            journal = entry / JOURNAL_NAME
            if journal.exists():
                names = json.loads(journal.read_text(encoding="utf-8"))["names"]
                if (entry / names[-1]).exists():  # the manifest was not published: undo the renames done
                    _roll_back(out, entry, [n for n in names if not (entry / n).exists()])
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(".build-") and entry.is_dir():  # set-aside chunks of the older build
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_file():  # older temporary files
            entry.unlink(missing_ok=True)


def publish_mode(path: Path) -> int:
    """The mode a published file gets: the one of the file it replaces, else 0666 minus the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()


def _publish(out: Path, staging: Path, names: list[str]) -> None:
    for name in names:
        staged = staging / name
        if not staged.is_file():
            raise EtlError(f"internal error: the build did not write {name}; nothing was published")
        target = out / name
        if target.is_dir() and not target.is_symlink():
            raise IsADirectoryError(errno.EISDIR, f"cannot replace a folder with {name}", str(target))
        _fsync(staged)
        os.chmod(staged, publish_mode(target))
        if target.is_file():
            os.link(target, staging / (_BACKUP_PREFIX + name))
    _write_journal(staging, names)
    done: list[str] = []
    try:
        for name in names:
            os.replace(staging / name, out / name)
            done.append(name)
    except BaseException:
        _roll_back(out, staging, done)
        raise
    _fsync_dir(out)


def _roll_back(out: Path, staging: Path, published: list[str]) -> None:
    """Put back the previous files of `published` names (or remove them where there was none)."""
    for name in reversed(published):
        backup = staging / (_BACKUP_PREFIX + name)
        if backup.exists():
            os.replace(backup, out / name)
        else:
            (out / name).unlink(missing_ok=True)
    _fsync_dir(out)


def _write_journal(staging: Path, names: list[str]) -> None:
    temp = staging / (JOURNAL_NAME + ".tmp")
    temp.write_text(json.dumps({"names": names}), encoding="utf-8")
    _fsync(temp)
    os.replace(temp, staging / JOURNAL_NAME)
    _fsync_dir(staging)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync(path)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold the exclusive lock on `out` (see the module docstring)."""
    path = out / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise OutputBusy(f"another build is writing into {out} ({holder}holds {path}); "
                             "wait for it to finish, then run this build again") from None
        except BaseException:
            os.close(fd)
            raise
        try:  # the file we locked may have been removed by the build that just finished: lock the new one
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # removed while still locked, so no other build can hold the old file
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        pid = ""
    return f"process {pid} " if pid.isdigit() else ""


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def _interrupts_raise() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt, like SIGINT, while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (then they are delivered)."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
