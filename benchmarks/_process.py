"""Measuring one step in its own process: its wall time and its own peak memory.

A step's peak is read from the child's `/proc/self/status` (`VmHWM`, the high-water mark of the
resident set of the address space the child was given at `exec`). `getrusage` cannot give it:
Linux carries `ru_maxrss` across `exec`, and Python starts children with `vfork`/`posix_spawn`, so a
child of a parent holding 5 GB (the generated data) reports 5 GB whatever it does itself, and
`RUSAGE_CHILDREN` is the largest of those. That is how the linkage benchmark once reported the
generator's memory for both systems (issue 18).
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_bytes() -> int:
    """This process's own peak resident set (threads included: they share the address space)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # no /proc: an upper bound


def report(**values: object) -> None:
    """The child's last line: its measurements as JSON, with its peak memory."""
    print(json.dumps({**values, "peak_bytes": peak_rss_bytes()}), flush=True)


def _why(stderr: str) -> str:
    """The line of a child's stderr that says why it failed: a Python exception's last line, or a
    Rust panic's message (polars out of memory), not the hint printed after it."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    useful = [
        line
        for line in lines
        if not line.startswith(("note:", "stack backtrace", "at ")) and not re.match(r"^\d+: ", line)
    ]
    return (useful or lines or [""])[-1][:300]


def run_child(
    args: list[str], env: dict[str, str] | None = None, timeout: float | None = None, log: Path | None = None
) -> dict:
    """Run `python -m <args>` from the repository root; its last stdout line (`report`) with
    `wall_s`, or `error` (the last line of stderr) when it fails or runs out of time. `log`: where a
    failed child's whole stderr is kept (the traceback says where a step ran out of memory)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s", "wall_s": time.perf_counter() - start}
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        if log is not None:
            log.write_text(proc.stderr, encoding="utf-8")
        return {"error": _why(proc.stderr) or f"exit code {proc.returncode}", "wall_s": wall}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "wall_s": wall}


if __name__ == "__main__":  # a bare child: what a process that does nothing reports
    report()
