"""A throw-away `chroma run` for benchmarks: a free loopback port, its own process group, and
its peak memory (benchmarks/run.py, benchmarks/real_corpus.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """`chroma run` on a free loopback port, in its own process group, stopped by stop()."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen | None = None
        self.url = ""
        self._log = None

    def start(self, timeout: float = 90) -> str:
        chroma = Path(sys.executable).parent / "chroma"
        if not chroma.exists():
            raise RuntimeError(f"no chroma executable at {chroma}")
        port = free_port()
        self.root.mkdir(parents=True, exist_ok=True)
        self._log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(
            [str(chroma), "run", "--path", str(self.root / "db"), "--port", str(port), "--host", "127.0.0.1"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(os.environ, ANONYMIZED_TELEMETRY="False"),
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                tail = (self.root / "server.log").read_text(errors="replace")[-1500:]
                raise RuntimeError(f"chroma run exited with {self.process.returncode}: {tail}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as response:
                    if response.status == 200:
                        return self.url
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not answer on {self.url} within {timeout:.0f} s")
            time.sleep(0.2)

    def peak_rss_mb(self) -> float:
        """The server's peak resident memory so far (VmHWM), while it runs."""
        if self.process is None:
            return float("nan")
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None
