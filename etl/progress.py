"""Progress of long builds on stderr: one line per stage with its elapsed time.

Quiet unless stderr is a terminal and the run has taken more than 2 seconds,
so tests, pipes, CI logs and `check` stay silent and small builds print
nothing. Stages finished before the 2 s mark are shown (in order) as soon as
the mark is passed; after it, each stage is announced when it starts and its
time printed when it ends.

    from etl.progress import stage

    with stage("parsing amounts"):
        ...

Stages nest under a run: the outermost `stage` (or `run`) opens a run, and
its end prints the total. `staged(...)` is a decorator that opens a run for a
function and times calls of the named module-level functions it makes, so a
module can be instrumented without re-indenting it:

    @staged(normalise="normalising rows", csv_bytes="writing CSV")
    def build(...): ...

Cost when quiet: two `time.perf_counter()` calls per stage.
"""
from __future__ import annotations

import functools
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, TextIO

THRESHOLD_S = 2.0


class Progress:
    """One run: stage timings, printed once the run is long enough."""

    def __init__(self, name: str = "build", stream: TextIO | None = None, threshold: float = THRESHOLD_S,
                 enabled: bool | None = None, clock: Callable[[], float] | None = None):
        self.name = name
        self.stream = stream if stream is not None else sys.stderr
        self.threshold = threshold
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.clock = clock or time.perf_counter
        self.start = self.clock()
        self.done: list[tuple[str, float]] = []
        self.live = False  # past the threshold: printing as we go
        self.depth = 0

    def elapsed(self) -> float:
        return self.clock() - self.start

    def _go_live(self) -> None:
        if not self.live and self.enabled and self.elapsed() > self.threshold:
            self.live = True
            for name, seconds in self.done:
                self._write(f"{name} {seconds:.1f} s\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(f"[{self.name} {self.elapsed():6.1f} s] " + text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal must never break the build
            self.enabled = False

    @contextmanager
    def stage(self, name: str, announce: bool = True):
        label = "  " * self.depth + name
        self._go_live()
        if self.live and announce:
            self._write(f"{label} ...\n")
        t0 = self.clock()
        self.depth += 1
        try:
            yield self
        finally:
            self.depth -= 1
            seconds = self.clock() - t0
            self.done.append((label, seconds))
            was_live = self.live
            self._go_live()
            if was_live:
                self._write(f"{label} {seconds:.1f} s\n")

    def finish(self) -> None:
        self._go_live()
        if self.live:
            self._write(f"done in {self.elapsed():.1f} s\n")


class _Runs(threading.local):
    def __init__(self):
        self.stack: list[Progress] = []


_runs = _Runs()  # per thread: a Streamlit session's build never joins the CLI's run


@contextmanager
def run(name: str = "build", **kwargs):
    """Open a run (stages inside it are reported together); prints the total at the end."""
    progress = Progress(name, **kwargs)
    _runs.stack.append(progress)
    try:
        yield progress
    finally:
        _runs.stack.pop()
        progress.finish()


@contextmanager
def stage(name: str, announce: bool = True):
    """Time a stage of the current run; outside a run, the stage is a run of its own.

    With `announce=False` only its end is printed (for short repeated steps, e.g. one per chunk).
    """
    if _runs.stack:
        with _runs.stack[-1].stage(name, announce):
            yield
    else:
        with run(name) as progress, progress.stage(name):
            yield


def staged(_name: str = "build", **stages: str):
    """Decorator: run the function as a progress run, timing calls of the named module-level functions.

    `stages` maps names in the decorated function's module (e.g. "normalise")
    to stage labels. While the function runs, those names are replaced by timed
    wrappers in the module; they are restored afterwards. This happens only in
    the main thread and only when stderr is a terminal; otherwise (tests, pipes,
    a Streamlit page calling build() from a session thread) the function runs
    untouched.
    """
    def decorate(fn):
        namespace = fn.__globals__

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if threading.current_thread() is not threading.main_thread() or not _isatty(sys.stderr):
                return fn(*args, **kwargs)  # nothing to show, or a server thread: leave the module alone
            saved = {}
            for attr, label in stages.items():
                if attr in namespace and attr not in saved:
                    saved[attr] = namespace[attr]
                    namespace[attr] = _timed(saved[attr], label)
            try:
                with run(_name):
                    return fn(*args, **kwargs)
            finally:
                namespace.update(saved)

        return wrapper

    return decorate


def _timed(fn, label: str):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with stage(label):
            return fn(*args, **kwargs)

    return wrapper


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
