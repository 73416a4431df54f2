"""Issue 14, item 16: Ctrl-C (SIGINT) while a command starts prints one line, never a
KeyboardInterrupt traceback, and exits with 130 like any program stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import free_port

INTERRUPTED = 130


def _start(args: list[str], home: Path, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_")}
    env.update(BRIEF_HOME=str(home), ORT_DISABLE_TELEMETRY="1", ANONYMIZED_TELEMETRY="False")
    return subprocess.Popen(
        [sys.executable, "-m", "brief.cli", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell that starts jobs in the background makes them ignore SIGINT; Ctrl-C in a
        # terminal reaches a foreground program with the default disposition.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_ctrl_c_during_start_up_is_one_line_and_exit_130(tmp_path: Path) -> None:
    home = tmp_path / "home"
    started = time.monotonic()
    whole = _start(["status"], home, tmp_path)
    out, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err
    duration = time.monotonic() - started  # a few seconds: modules, Chroma, the registry
    interrupted = 0
    for fraction in (0.2, 0.4, 0.6, 0.8):
        process = _start(["status"], home, tmp_path)
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=300)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        if process.returncode == 0:
            continue  # it had already finished: nothing to interrupt
        assert process.returncode == INTERRUPTED, (fraction, process.returncode, err)
        assert err.strip().splitlines() == ["interrupted"], err
        interrupted += 1
    assert interrupted >= 2, "the interrupts came too late to test anything"


def test_ctrl_c_while_the_app_starts_is_one_line_and_frees_the_port(tmp_path: Path) -> None:
    port = free_port()
    process = _start(["ui", "--port", str(port)], tmp_path / "home", tmp_path)
    assert process.stderr is not None
    first = process.stderr.readline()  # printed just before the server is launched
    assert first.startswith(f"brief ui on http://127.0.0.1:{port}"), first
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    if process.returncode != 0:  # 0 only if the server was already up and closed itself
        assert process.returncode == INTERRUPTED, (process.returncode, err)
        assert err.strip().splitlines() == ["interrupted"], err
