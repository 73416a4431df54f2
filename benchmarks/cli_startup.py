"""How long the command line takes to start: `brief --help`, each command's `--help`, and a
one-shot `brief ask` on the sample article, for this checkout and for an older commit (the
baseline, checked out into a temporary folder) measured in the same run, with the import-time
breakdown of the ask.

    python benchmarks/cli_startup.py [--baseline REF] [--runs N]

Each figure is the median wall time of N fresh processes (`python -m brief.cli ...`), so
Python's own start-up is included, as a user sees it. The ask runs on a store built once per
tree with the bundled model (warm model cache: the int8 model file is derived beforehand).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The commit before the CLI was split into lazily loaded commands (issue 13's "before").
DEFAULT_BASELINE = "cd28695"
QUESTION = "Why might the new sanctions push Pakistan toward China?"
HELP_TARGET_S = 0.3
ASK_TARGET_S = 1.0
SUBCOMMANDS = ("ingest", "docs", "status", "rm", "ask", "report", "eval", "ui")


@dataclass
class Tree:
    """A checkout of brief to run the command line from."""

    label: str
    root: Path

    def env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_")}
        env.update(PYTHONPATH=str(self.root), BRIEF_HOME=str(home), ORT_DISABLE_TELEMETRY="1")
        env.update(ANONYMIZED_TELEMETRY="False", PYTHONDONTWRITEBYTECODE="0")
        return env

    def run(self, args: list[str], home: Path, extra: list[str] | None = None) -> tuple[float, str]:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *(extra or []), "-m", "brief.cli", *args],
            cwd=self.root,
            env=self.env(home),
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{self.label}: brief {' '.join(args)} failed: {done.stderr[-500:]}")
        return seconds, done.stderr


def baseline_tree(ref: str, folder: Path) -> Tree:
    """The baseline commit's files, exported (no .git needed) into `folder`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return Tree(f"baseline {ref}", folder)


def median_seconds(tree: Tree, args: list[str], home: Path, runs: int) -> float:
    tree.run(args, home)  # one warm-up: byte-compiled files and the page cache, as on a second call
    return statistics.median(tree.run(args, home)[0] for _ in range(runs))


def import_breakdown(tree: Tree, home: Path, top: int = 8) -> list[tuple[str, float]]:
    """The slowest top-level imports of a one-shot ask (cumulative seconds, `python -X importtime`)."""
    _, stderr = tree.run(["ask", QUESTION, "--json"], home, extra=["-X", "importtime"])
    cumulative: dict[str, float] = {}
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(2)) <= 2:  # top-level and their direct children
            cumulative[match.group(3)] = int(match.group(1)) / 1e6
    return sorted(cumulative.items(), key=lambda kv: -kv[1])[:top]


def measure(tree: Tree, runs: int, work: Path) -> dict[str, object]:
    home = work / f"home-{tree.label.split()[0]}"
    tree.run(["ingest", str(REPO / "corpus"), "-q"], home)  # also derives the int8 model once
    sub_helps = {name: median_seconds(tree, [name, "--help"], home, runs) for name in SUBCOMMANDS}
    return {
        "help": median_seconds(tree, ["--help"], home, runs),
        "slowest_subcommand_help": max(sub_helps.items(), key=lambda kv: kv[1]),
        "ask": median_seconds(tree, ["ask", QUESTION, "--json"], home, runs),
        "imports": import_breakdown(tree, home),
    }


def report(results: dict[str, dict[str, object]]) -> list[str]:
    lines = []
    (new_label, new), (old_label, old) = list(results.items())
    name, seconds = new["slowest_subcommand_help"]  # type: ignore[misc]
    old_name, old_seconds = old["slowest_subcommand_help"]  # type: ignore[misc]
    rows = [
        ("brief --help", new["help"], old["help"], HELP_TARGET_S),
        (f"brief CMD --help (slowest: {name}; before: {old_name})", seconds, old_seconds, HELP_TARGET_S),
        ("one-shot brief ask (sample, extractive)", new["ask"], old["ask"], ASK_TARGET_S),
    ]
    for label, now, before, target in rows:
        status = "PASS" if now <= target else "MISS"  # type: ignore[operator]
        lines.append(f"{label:<52} {now:6.2f} s   {old_label}: {before:6.2f} s   target <= {target} s  {status}")
    for label, data in results.items():
        parts = ", ".join(f"{m} {s:.2f}" for m, s in data["imports"])  # type: ignore[attr-defined]
        lines.append(f"imports of a one-shot ask, {label} (s, cumulative): {parts}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="commit to compare with")
    parser.add_argument("--runs", type=int, default=5, help="processes per figure (median)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="brief-cli-bench-") as tmp:
        work = Path(tmp)
        (work / "old").mkdir()
        trees = [Tree("now", REPO), baseline_tree(args.baseline, work / "old")]
        results = {tree.label: measure(tree, args.runs, work) for tree in trees}
    load = os.getloadavg()[0]
    print(f"CLI start-up ({os.cpu_count()} cores, load {load:.2f}; median of {args.runs} processes each)")
    for line in report(results):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
