"""CPU each thread of a process and of its child processes used over an interval, and how busy the
machine's CPUs were: where a receiver's time goes while bench/intake.py drives it.

    .venv/bin/python bench/threads.py PID [SECONDS] [OTHER_PID ...]

PID is `deskbridge smtpd`'s (its committer process is found as its child); OTHER_PID, for example
bench/intake.py's own (the client), is measured alongside. Reads /proc (Linux): utime and stime of
/proc/<pid>/task/<tid>/stat at the start and end of the interval, and the first line of /proc/stat.
A script, not a test.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def tree(pid: int) -> list[int]:
    children = [
        int(c)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for c in (task / "children").read_text().split()
    ]
    return [pid, *(p for child in children for p in tree(child))]


def thread_times(pids: list[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """(pid, tid) → (user, system) clock ticks so far."""
    times = {}
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the thread ended
            times[(pid, int(task.name))] = (int(fields[11]), int(fields[12]))
    return times


def machine() -> tuple[int, int]:
    """(all ticks, idle and iowait ticks) of all CPUs so far."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(ticks), ticks[3] + ticks[4]


def main() -> None:
    pid = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    pids = tree(pid) + [int(other) for other in sys.argv[3:]]
    before, machine_before = thread_times(pids), machine()
    time.sleep(seconds)
    after, machine_after = thread_times(pids), machine()
    hz = os.sysconf("SC_CLK_TCK")
    used = {
        key: tuple(
            (end - start) / hz / seconds for end, start in zip(ticks, before.get(key, (0, 0)), strict=True)
        )
        for key, ticks in after.items()
    }
    print(f"{'pid':>8} {'thread':>8}  CPUs used (user + system)")
    for (process, thread), (user, system) in sorted(used.items(), key=lambda item: -sum(item[1])):
        if user + system >= 0.01:
            print(f"{process:>8} {thread:>8}  {user + system:.2f} ({user:.2f} + {system:.2f})")
    total, idle = (a - b for a, b in zip(machine_after, machine_before, strict=True))
    print(f"the machine's {os.cpu_count()} CPUs: {os.cpu_count() * (total - idle) / total:.2f} busy")


if __name__ == "__main__":
    main()
