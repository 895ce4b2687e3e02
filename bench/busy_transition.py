#!/usr/bin/env python3
"""How fast the cpu backend adapts when a core becomes busy and free again (issue 33).

Runs `gpurnn train charlm --progress lines` on every core, starts a busy loop pinned to the last
core after BUSY_AFTER seconds and stops it BUSY_FOR seconds later, stamping each progress line
as it arrives; then the same training on one thread with no load (the baseline). Step times come
from consecutive progress lines (a line every few percent of the steps, every 20 here: the
windows below are that coarse). The table gives the median time per step in
windows: idle before the load, the first 50 steps after it starts, the rest of the load, and the
first 50 steps after it stops, each as a ratio to the idle one-thread step time.

    /usr/bin/python3 bench/busy_transition.py [BUILD_DIR] [OUT]   (OUT: bench/results/busy-transition-<date>.md)

Targets (issue 33): within 1.5x of the idle one-thread time during the load (from its first 50
steps on), and back to the idle every-core time within 50 steps after it stops.
"""
import datetime
import os
import re
import statistics
import subprocess
import sys
import threading
import time

BUSY_AFTER, BUSY_FOR, STEPS = 3.0, 5.0, 400
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    root, "bench", "results", f"busy-transition-{datetime.date.today().isoformat()}.md")
gpurnn = os.path.join(build, "gpurnn")
cores = os.cpu_count() or 1
if cores < 2:
    sys.exit("busy_transition.py: needs at least 2 cores")
STEP = re.compile(r"^step (\d+)/\d+ ")


def train(threads, load):
    """[(step, monotonic seconds)], and the (start, stop) times of the load."""
    cmd = [gpurnn, "train", "charlm", "--steps", str(STEPS), "--progress", "lines", "--eval-batches", "1",
           "--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    stamps, window = [], [None, None]

    def busy():
        time.sleep(BUSY_AFTER)
        loop = subprocess.Popen(["taskset", "-c", str(cores - 1), "bash", "-c", "while :; do :; done"])
        window[0] = time.monotonic()
        time.sleep(BUSY_FOR)
        loop.kill()
        loop.wait()
        window[1] = time.monotonic()

    if load:
        threading.Thread(target=busy, daemon=True).start()
    for line in proc.stdout:
        m = STEP.match(line)
        if m:
            stamps.append((int(m.group(1)), time.monotonic()))
    if proc.wait() != 0:
        sys.exit(f"busy_transition.py: {' '.join(cmd)} failed")
    return stamps, window


def per_step(stamps):
    """[(step, seconds per step over the interval ending there, steps in it)]."""
    return [(s1, (t1 - t0) / (s1 - s0), s1 - s0) for (s0, t0), (s1, t1) in zip(stamps, stamps[1:]) if s1 > s0]


def median_ms(times):
    return statistics.median(times) * 1e3 if times else float("nan")


def main():
    loaded, (start, stop) = train(0, True)
    baseline, _ = train(1, False)
    step_at = {s: t for s, t in loaded}
    first_busy = min((s for s, t in loaded if start is not None and t >= start), default=None)
    first_free = min((s for s, t in loaded if stop is not None and t >= stop), default=None)
    if first_busy is None or first_free is None:
        sys.exit("busy_transition.py: the training ended before the load stopped; raise STEPS")
    times = per_step(loaded)
    windows = {
        "idle, every core (before the load)": [(d, n) for s, d, n in times if step_at[s] < start and s > 20],
        "first 50 steps of the load": [(d, n) for s, d, n in times if first_busy <= s < first_busy + 50],
        "the rest of the load": [(d, n) for s, d, n in times if s >= first_busy + 50 and step_at[s] < stop],
        "first 50 steps after the load": [(d, n) for s, d, n in times if first_free <= s < first_free + 50],
        "after that": [(d, n) for s, d, n in times if s >= first_free + 50],
    }
    base = [(d, n) for s, d, n in per_step(baseline) if s > 20]
    one = median_ms([d for d, n in base])
    rows = ["| window | steps | intervals | ms per step (median of intervals) | ratio to idle 1 thread |",
            "|---|---:|---:|---:|---:|"]
    for name, values in windows.items():
        ms = median_ms([d for d, n in values])
        rows.append(f"| {name} | {sum(n for d, n in values)} | {len(values)} | {ms:.1f} | {ms / one:.2f} |")
    rows.append(f"| idle, 1 thread (baseline run) | {sum(n for d, n in base)} | {len(base)} | {one:.1f} | 1.00 |")
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    text = "\n".join([
        f"# The cpu backend while a core becomes busy and free again, at {commit}",
        "",
        f"Command: `/usr/bin/python3 bench/busy_transition.py` on {cores} cores ({model}); load average before:"
        f" {open('/proc/loadavg').read().split()[0]}. `gpurnn train charlm --steps {STEPS} --progress lines"
        f" --eval-batches 1` on every core; a busy loop pinned to core {cores - 1} from {BUSY_AFTER:.0f} s for"
        f" {BUSY_FOR:.0f} s (steps {first_busy} to {first_free}); then the same run on 1 thread, no load. Step times from"
        " consecutive progress lines (one every 20 steps or so).",
        "",
        *rows,
        "",
    ])
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.replace(out + ".tmp", out)
    print(text)


main()
