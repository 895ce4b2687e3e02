#!/usr/bin/env python3
"""gpurnn.torch.LSTMCell / GRUCell against torch.nn.LSTMCell / GRUCell on the CPU: the time of
one call, as a streaming model pays it (a decoder or a voice-activity detector stepping a cell
once per frame), in one process.

Both cells hold the same weights and step the same input. Three modes per shape:
  infer     one call under torch.no_grad() (the streaming case)
  grad      one call with autograd recording (parameters requiring grad, as in a training loop)
  step_bwd  one call and its backward (sum(h * dh) into the input, the state and every parameter)
Repetitions alternate between the two cells (A B A B ...), so drift hits both alike; each
repetition is the mean over enough calls to last --min-time seconds; the table reports the
median repetition in microseconds per call and the ratio torch / gpurnn with its min and max
over the repetitions paired in order (above 1: gpurnn is faster).

  PYTHONPATH=build-python/python_bindings_disabled/python \\
    /usr/bin/python3 bench/torch_cell_bench.py [--cells lstm gru] [--hidden 128 512] \\
    [--batch 1 8] [--reps 7] [--min-time 0.3] [--threads 1] [--markdown out.md]
"""
import argparse
import os
import platform
import statistics
import sys
import time

import torch


def make_pair(cell, hidden):
    import gpurnn.torch as gt
    theirs = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[cell](hidden, hidden)
    ours = {"lstm": gt.LSTMCell, "gru": gt.GRUCell}[cell](hidden, hidden)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def make_work(module, lstm, batch, hidden, mode):
    """A function making one call of `mode` on `module`."""
    x = torch.randn(batch, hidden)
    h = torch.randn(batch, hidden)
    hx = (h, torch.randn(batch, hidden)) if lstm else h
    if mode == "infer":
        def work():
            with torch.no_grad():
                module(x, hx)
        return work
    if mode == "grad":
        def work():
            module(x, hx)
        return work
    xg = x.clone().requires_grad_()
    dh = torch.randn(batch, hidden)

    def work():
        out = module(xg, hx)
        ((out[0] if lstm else out) * dh).sum().backward()
    return work


def seconds_per_call(work, min_time):
    for _ in range(20):
        work()
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            work()
        calls += 50
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru"])
    parser.add_argument("--hidden", nargs="+", type=int, default=[128, 512])
    parser.add_argument("--batch", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--modes", nargs="+", default=["infer", "grad", "step_bwd"])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=0.3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--markdown", help="also write the table here (through a temporary file)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    lines = [f"gpurnn.torch cells vs torch.nn cells, µs per call (median of {args.reps} interleaved "
             f"repetitions, each >= {args.min_time} s); torch {torch.__version__}, {args.threads} thread(s), "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
             "",
             "| cell | H | B | mode | torch | gpurnn | torch / gpurnn (min–max) |",
             "|---|---:|---:|---|---:|---:|---|"]
    for cell in args.cells:
        for hidden in args.hidden:
            for batch in args.batch:
                theirs, ours = make_pair(cell, hidden)
                for mode in args.modes:
                    works = [make_work(m, cell == "lstm", batch, hidden, mode) for m in (theirs, ours)]
                    t_theirs, t_ours = [], []
                    for _ in range(args.reps):
                        t_theirs.append(seconds_per_call(works[0], args.min_time) * 1e6)
                        t_ours.append(seconds_per_call(works[1], args.min_time) * 1e6)
                    ratios = [a / b for a, b in zip(t_theirs, t_ours)]
                    line = (f"| {cell} | {hidden} | {batch} | {mode} | {statistics.median(t_theirs):.1f} | "
                            f"{statistics.median(t_ours):.1f} | {statistics.median(ratios):.2f} "
                            f"({min(ratios):.2f}–{max(ratios):.2f}) |")
                    lines.append(line)
                    print(line, flush=True)
    if args.markdown:
        tmp = args.markdown + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, args.markdown)
    print("\n".join(lines[:1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
