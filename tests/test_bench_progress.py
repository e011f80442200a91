"""etl.progress: silent unless stderr is a terminal and the run passes 2 s; then a line per stage."""
from __future__ import annotations

import io
import threading
import types

from etl import progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_silent_when_not_a_terminal():
    stream, clock = io.StringIO(), Clock()
    with progress.run("build", stream=stream, clock=clock):
        with progress.stage("parsing amounts"):
            clock.now += 30
    assert stream.getvalue() == ""


def test_silent_when_the_run_is_short():
    stream, clock = FakeTerminal(), Clock()
    with progress.run("build", stream=stream, clock=clock):
        for name in ("reading", "parsing", "writing"):
            with progress.stage(name):
                clock.now += 0.6
    assert stream.getvalue() == ""


def test_long_run_prints_every_stage_in_order_with_its_time():
    stream, clock = FakeTerminal(), Clock()
    with progress.run("build", stream=stream, clock=clock):
        with progress.stage("reading"):
            clock.now += 1.5
        with progress.stage("parsing amounts"):
            clock.now += 1.0  # the run passes 2 s here: "reading" is printed late, in order
        with progress.stage("writing"):
            clock.now += 3.0
    lines = stream.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "reading 1.5 s",
        "parsing amounts 1.0 s",
        "writing ...",
        "writing 3.0 s",
        "done in 5.5 s",
    ]


def test_chunk_stages_print_only_their_end():
    stream, clock = FakeTerminal(), Clock()
    with progress.run("build", stream=stream, clock=clock):
        with progress.stage("normalising"):
            for first in (1, 101):
                with progress.stage(f"rows {first}-{first + 99}", announce=False):
                    clock.now += 2.5
    assert [line.split("] ", 1)[1] for line in stream.getvalue().splitlines()] == [
        "  rows 1-100 2.5 s",  # the run went live during the first chunk: "normalising ..." had already begun
        "  rows 101-200 2.5 s",
        "normalising 5.0 s",
        "done in 5.0 s",
    ]


def test_stage_outside_a_run_is_its_own_run(monkeypatch):
    stream, clock = FakeTerminal(), Clock()
    monkeypatch.setattr(progress.sys, "stderr", stream)
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    with progress.stage("one long step"):
        clock.now += 4
    assert "one long step 4.0 s" in stream.getvalue()


def test_staged_times_the_named_module_functions_and_restores_them(monkeypatch):
    stream, clock = FakeTerminal(), Clock()
    monkeypatch.setattr(progress.sys, "stderr", stream)
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    module = types.ModuleType("fake_build")
    exec(
        "def normalise(x):\n    CLOCK.now += 2.5\n    return x + 1\n"
        "def build(x):\n    return normalise(x) * 10\n",
        module.__dict__,
    )
    module.CLOCK = clock
    original = module.normalise
    decorated = progress.staged("build", normalise="normalising rows")(module.build)
    assert decorated(1) == 20
    assert module.normalise is original  # restored
    assert "normalising rows 2.5 s" in stream.getvalue()
    assert decorated.__name__ == "build"


def test_a_broken_terminal_never_breaks_the_build():
    class Closed(FakeTerminal):
        def write(self, text):
            raise OSError("terminal went away")

    clock = Clock()
    with progress.run("build", stream=Closed(), clock=clock):
        with progress.stage("x"):
            clock.now += 5


def test_staged_leaves_the_module_alone_off_the_main_thread_or_without_a_terminal(monkeypatch):
    module = types.ModuleType("fake_build")
    exec("def normalise(x):\n    return x + 1\n"
         "def build(x):\n    return normalise is ORIGINAL\n", module.__dict__)
    module.ORIGINAL = module.normalise
    decorated = progress.staged("build", normalise="normalising rows")(module.build)
    monkeypatch.setattr(progress.sys, "stderr", io.StringIO())
    assert decorated(1) is True  # not a terminal: not patched
    monkeypatch.setattr(progress.sys, "stderr", FakeTerminal())
    assert decorated(1) is False  # main thread, terminal: patched during the call
    seen = []
    thread = threading.Thread(target=lambda: seen.append(decorated(1)))
    thread.start()
    thread.join()
    assert seen == [True]  # a session thread (Streamlit): untouched
