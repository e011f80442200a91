"""etl/commit.py: the outputs appear together or not at all, one build per folder, on real files and real processes.

Kills and signals are real (subprocesses running the real `staged_outputs`); the
kill "mid-commit" is placed by wrapping `os.replace` in the child so that the
child SIGKILLs itself right after the first file is renamed into place.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from etl.commit import LOCK_NAME, OutputBusy, recover, staged_outputs

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["seizures.csv", "seizures.parquet", "datapackage.json"]
OLD = {"seizures.csv": b"old csv\n", "seizures.parquet": b"old parquet", "datapackage.json": b'{"old": true}\n'}
NEW = {"seizures.csv": b"new csv\n", "seizures.parquet": b"new parquet", "datapackage.json": b'{"new": true}\n'}


def publish(out: Path, contents: dict[str, bytes]) -> None:
    with staged_outputs(out, list(contents)) as paths:
        for name, data in contents.items():
            paths[name].write_bytes(data)


def listing(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    publish(folder, OLD)
    assert listing(folder) == OLD  # no lock file, no staging folder left behind
    return folder


def child(code: str, out: Path, **kwargs) -> subprocess.Popen:
    """A Python process that runs `code` with `out`, NAMES and NEW defined and etl importable."""
    prelude = f"import os, sys, signal, time\nfrom pathlib import Path\nfrom etl.commit import staged_outputs\n" \
              f"out = Path({str(out)!r})\nNAMES = {NAMES!r}\nNEW = {NEW!r}\n"
    return subprocess.Popen([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def signal_after_replacing(name: str, signal_name: str) -> str:
    """Child code: os.replace patched so that the process sends itself `signal_name` right after `name` is
    published."""
    return f"""
real = os.replace
def replace(src, dst):
    real(src, dst)
    if str(dst).endswith({name!r}):
        os.kill(os.getpid(), signal.{signal_name})
os.replace = replace
"""


WRITE_NEW = """
with staged_outputs(out, NAMES) as paths:
    for name in NAMES:
        paths[name].write_bytes(NEW[name])
"""


def wait_for_line(proc: subprocess.Popen, expected: str) -> None:
    line = proc.stdout.readline().strip()
    assert line == expected, (line, proc.stderr.read() if proc.poll() is not None else "")


def test_all_outputs_appear_together(out):
    publish(out, NEW)
    assert listing(out) == NEW


def test_an_exception_while_writing_publishes_nothing(out):
    with pytest.raises(RuntimeError), staged_outputs(out, NAMES) as paths:
        paths["seizures.csv"].write_bytes(b"half")
        raise RuntimeError("the build failed")
    assert listing(out) == OLD


def test_blocked_datapackage_leaves_the_previous_outputs(out):
    # datapackage.json cannot be replaced (a folder stands in its way): seizures.csv must not be replaced either
    (out / "datapackage.json").unlink()
    (out / "datapackage.json").mkdir()
    before = {n: (out / n).read_bytes() for n in NAMES[:2]}
    with pytest.raises(IsADirectoryError):
        publish(out, NEW)
    assert {n: (out / n).read_bytes() for n in NAMES[:2]} == before
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)  # no staging folder, no lock file


def test_a_failed_rename_midway_puts_the_renamed_files_back(out, tmp_path):
    # a real failure after seizures.csv was renamed: the parquet's target is a non-empty folder at rename time
    code = """
    real = os.replace
    def replace(src, dst):
        if str(dst).endswith("seizures.parquet"):
            os.unlink(dst); os.mkdir(dst); (Path(dst) / "x").write_text("x")
        return real(src, dst)
    os.replace = replace
    try:
        with staged_outputs(out, NAMES) as paths:
            for name in NAMES:
                paths[name].write_bytes(NEW[name])
    except OSError as err:
        print("failed", type(err).__name__)
    """
    proc = child(code, out)
    assert proc.communicate(timeout=60)[0].strip() == "failed IsADirectoryError"
    assert (out / "seizures.csv").read_bytes() == OLD["seizures.csv"]
    assert (out / "datapackage.json").read_bytes() == OLD["datapackage.json"]


def test_sigkill_mid_commit_is_rolled_back_by_the_next_build(out):
    code = signal_after_replacing("seizures.csv", "SIGKILL") + WRITE_NEW  # right after the first output was published
    proc = child(code, out)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # what a reader sees until the next build: a new CSV beside the old manifest (its hash would not match)
    assert (out / "seizures.csv").read_bytes() == NEW["seizures.csv"]
    assert (out / "datapackage.json").read_bytes() == OLD["datapackage.json"]
    with staged_outputs(out, NAMES) as paths:  # the next build starts: it restores the previous set first
        assert {n: (out / n).read_bytes() for n in NAMES} == OLD
        assert [p.name for p in out.iterdir() if p.name.startswith(".staging-")] == [paths[NAMES[0]].parent.name]
        for name in NAMES:
            paths[name].write_bytes(NEW[name] + b"2")
    assert listing(out) == {n: NEW[n] + b"2" for n in NAMES}


def test_sigkill_after_the_manifest_keeps_the_complete_commit(out):
    # killed once everything is published, the staging folder not yet removed
    code = signal_after_replacing("datapackage.json", "SIGKILL") + WRITE_NEW
    proc = child(code, out)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert any(p.name.startswith(".staging-") for p in out.iterdir())
    recover(out)  # what the next build does first, under the lock
    # the complete commit stays; its staging folder (with the old files) is gone; the killed build's lock file
    # is left but no longer locked (the kernel released it), and the next build removes it
    assert listing(out) == {**NEW, LOCK_NAME: listing(out)[LOCK_NAME]}
    publish(out, OLD)
    assert listing(out) == OLD


def test_a_build_that_writes_nothing_publishes_nothing(out):
    from etl.errors import EtlError
    with pytest.raises(EtlError, match="did not write seizures.parquet"), staged_outputs(out, NAMES) as paths:
        paths["seizures.csv"].write_bytes(b"only one")
    assert listing(out) == OLD


def test_sigkill_while_writing_leaves_nothing_after_the_next_build(out):
    code = """
    with staged_outputs(out, NAMES) as paths:
        paths["seizures.csv"].write_bytes(b"x" * 1_000_000)
        print("writing", flush=True)
        time.sleep(60)
    """
    proc = child(code, out)
    wait_for_line(proc, "writing")
    proc.kill()
    proc.communicate(timeout=60)
    assert any(p.name.startswith(".staging-") for p in out.iterdir())  # what the kill left
    publish(out, NEW)
    assert listing(out) == NEW  # the next build removed it


def test_a_second_build_into_the_same_folder_is_stopped_by_the_lock(out):
    code = """
    with staged_outputs(out, NAMES) as paths:
        print("locked", flush=True)
        sys.stdin.readline()
        for name in NAMES:
            paths[name].write_bytes(NEW[name])
    """
    proc = child(code, out, stdin=subprocess.PIPE)
    wait_for_line(proc, "locked")
    try:
        with pytest.raises(OutputBusy) as err:
            publish(out, {n: b"second" for n in NAMES})
        assert str(err.value) == (f"another build is writing into {out} (process {proc.pid} holds {out / LOCK_NAME}); "
                                  "wait for it to finish, then run this build again")
    finally:
        proc.communicate("go\n", timeout=60)
    assert proc.returncode == 0
    assert listing(out) == NEW  # the first build's outputs, whole


def test_sigterm_is_handled_like_sigint(out):
    code = """
    try:
        with staged_outputs(out, NAMES) as paths:
            paths["seizures.csv"].write_bytes(b"partial")
            print("writing", flush=True)
            time.sleep(60)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    """
    proc = child(code, out)
    wait_for_line(proc, "writing")
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert stdout.strip() == "interrupted" and proc.returncode == 0, stderr
    assert listing(out) == OLD  # nothing published, nothing left behind


def test_a_signal_during_the_renames_waits_until_they_are_done(out):
    # the signal arrives between two renames
    code = signal_after_replacing("seizures.csv", "SIGTERM") + """
try:
""" + textwrap.indent(WRITE_NEW, "    ") + """
except KeyboardInterrupt:
    print("interrupted after the commit", flush=True)
"""
    proc = child(code, out)
    stdout, stderr = proc.communicate(timeout=60)
    assert stdout.strip() == "interrupted after the commit", stderr
    assert listing(out) == NEW


def test_outputs_keep_a_normal_mode(tmp_path):
    folder = tmp_path / "modes"
    old = os.umask(0o022)
    try:
        publish(folder, NEW)
        assert {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()} == {n: 0o644 for n in NAMES}
        (folder / "seizures.csv").chmod(0o664)  # a mode chosen by the owner is kept
        publish(folder, OLD)
    finally:
        os.umask(old)
    assert {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()} == {
        "seizures.csv": 0o664, "seizures.parquet": 0o644, "datapackage.json": 0o644}


def test_stale_temporary_files_of_killed_builds_are_removed(out):
    (out / ".build-abc123").mkdir()  # set-aside chunks of the older build
    (out / ".build-abc123" / "000000.arrow").write_bytes(b"x" * 1000)
    (out / ".seizures.csv.k2j3.tmp").write_bytes(b"half")
    (out / ".staging-999-xyz").mkdir()
    (out / ".staging-999-xyz" / "seizures.csv").write_bytes(b"never published")
    (out / "notes.txt").write_text("someone else's file")
    publish(out, NEW)
    assert listing(out) == {**NEW, "notes.txt": b"someone else's file"}


def test_output_names_must_be_plain_file_names(tmp_path):
    for names in (["a.csv", "a.csv"], ["../x.csv"], [".hidden"]):
        with pytest.raises(ValueError), staged_outputs(tmp_path / "o", names):
            pass
