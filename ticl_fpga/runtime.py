"""How many CPU threads torch uses: the cores that are free for this process, not the machine's.

torch starts one intra-op thread per core of the machine.  On a shared machine those threads
spin on cores that other processes hold (a demo took 41 min instead of 3 on a busy 2-core machine,
with 5x the CPU time), so the CLI sizes them once at start-up (:func:`configure_threads`):

1. ``ticl-fpga --threads N`` (the command line), else
2. the ``TICL_FPGA_THREADS`` environment variable, else
3. ``OMP_NUM_THREADS`` if the user set it, else
4. the cores this process may use (CPU affinity and the cgroup CPU quota) that were idle over a
   short sample of ``/proc/stat``, at least one.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from pathlib import Path

from ticl_fpga.errors import ConfigError

log = logging.getLogger(__name__)

ENV = "TICL_FPGA_THREADS"


def allowed_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        n = min(n, max(1, math.floor(quota)))
    return max(1, n)


def _cgroup_quota() -> float | None:
    """CPUs granted by the cgroup (v2 ``cpu.max`` or v1 ``cfs_quota/period``), None if unlimited."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def _cpu_times() -> dict[int, tuple[int, int]]:
    """Per CPU: (idle + iowait ticks, total ticks) from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *fields = line.split()
                v = [int(x) for x in fields[:8]]
                out[int(name[3:])] = (v[3] + v[4], sum(v))
    return out


def idle_cores(interval: float = 0.2) -> float | None:
    """Idle cores among this process's allowed CPUs over ``interval`` s (None where unknown)."""
    try:
        cpus = os.sched_getaffinity(0)
        before = _cpu_times()
        time.sleep(interval)
        after = _cpu_times()
    except (AttributeError, OSError, ValueError, IndexError):
        return None
    idle = 0.0
    for c in cpus:
        if c in before and c in after:
            total = after[c][1] - before[c][1]
            idle += (after[c][0] - before[c][0]) / total if total > 0 else 1.0
    return idle


def free_cores(interval: float = 0.2) -> int:
    """Allowed cores that are idle now (rounded, at least 1, at most :func:`allowed_cores`)."""
    allowed = allowed_cores()
    idle = idle_cores(interval)
    return allowed if idle is None else max(1, min(allowed, round(idle)))


def parse_threads(value: str | int, source: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"{source}: torch threads must be a positive integer, not {value!r}")
    return n


def configure_threads(requested: int | None = None) -> int:
    """Set torch's intra-op threads (see the module docstring for the order) and return them.

    torch need not be imported yet: ``OMP_NUM_THREADS`` is set for it (and for child
    processes); an already imported torch is set directly.
    """
    if requested is not None:
        n, why = parse_threads(requested, "--threads"), "--threads"
    elif os.environ.get(ENV):
        n, why = parse_threads(os.environ[ENV], ENV), ENV
    elif os.environ.get("OMP_NUM_THREADS"):
        n, why = parse_threads(os.environ["OMP_NUM_THREADS"], "OMP_NUM_THREADS"), "OMP_NUM_THREADS"
    else:
        n, why = free_cores(), f"free of {allowed_cores()} allowed cores"
    os.environ["OMP_NUM_THREADS"] = str(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    log.debug("torch intra-op threads: %d (%s)", n, why)
    return n
