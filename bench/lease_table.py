#!/usr/bin/env python3
"""The lease run's benchmark table: µs per step of every backend for every shape, and each
gpurnn backend's speed against the fastest rival (any cudnn/* or torch/* row) of the same shape.

  python3 bench/lease_table.py gpurnn.json [torch.json ...]   > table.md

Rows are Google Benchmark JSON rows named <cell>/<mode>/<backend...>/H:<h>/B:<b>/T:<t>/I:<i>
with a us_per_step field (gpurnn_bench and bench/torch_rnn_bench.py both write them). With
repetitions, the median aggregate is used. "x rival" is rival time / our time: above 1 we are
faster; each of our columns is compared with the rivals of its own dtype (a _bf16/_f16 suffix,
torch/<dtype>), so a half row is never set against an f32 one. Error rows are counted and listed
below the table.
"""
import json
import re
import statistics
import sys

SHAPE_PART = re.compile(r"^[A-Z]:\d+$")


def rows_of(path):
    with open(path) as f:
        data = json.load(f)
    rows = data.get("benchmarks", [])
    if any(r.get("run_type") == "aggregate" for r in rows):
        rows = [r for r in rows if r.get("run_type") != "aggregate" or r.get("aggregate_name") == "median"]
        rows = [r for r in rows if r.get("run_type") == "aggregate" or r.get("error_occurred")]
    return rows


def split(name):
    """('lstm/infer', 'cudnn/persist_static', 'H:512/B:1/T:100/I:512') from a row name."""
    parts = name.split("/")
    first = next((i for i, p in enumerate(parts) if SHAPE_PART.match(p)), len(parts))
    # Google Benchmark appends "/real_time" or "/manual_time" to some names: not part of the shape.
    return "/".join(parts[:2]), "/".join(parts[2:first]), "/".join(p for p in parts[first:] if SHAPE_PART.match(p))


def is_rival(backend):
    return backend.startswith("cudnn/") or backend.startswith("torch/")


def dtype_of(backend):
    """The dtype a backend column computes in: torch/<dtype>, or gpurnn's _bf16/_f16 suffix, else f32."""
    if backend.startswith("torch/"):
        return backend.split("/", 1)[1]
    for half in ("bf16", "f16"):
        if backend.endswith("_" + half):
            return half
    return "f32"


def table(paths):
    times, backends, errors = {}, [], []
    for path in paths:
        for r in rows_of(path):
            name = r.get("run_name", r["name"])
            kind, backend, shape = split(name)
            if r.get("error_occurred") or "us_per_step" not in r:
                errors.append(f"{name}: {r.get('error_message', 'no us_per_step')}")
                continue
            if backend not in backends:
                backends.append(backend)
            times.setdefault((kind, shape), {}).setdefault(backend, []).append(float(r["us_per_step"]))
    ours = [b for b in backends if not is_rival(b)]
    lines = [
        "| shape | " + " | ".join(backends) + " | best rival | " + " | ".join(f"{b} x rival" for b in ours) + " |",
        "|---|" + "---:|" * (len(backends) + 1 + len(ours)),
    ]
    for (kind, shape), cols in times.items():
        med = {b: statistics.median(v) for b, v in cols.items()}
        rivals = {b: t for b, t in med.items() if is_rival(b)}
        # Each of our columns against the fastest rival in its own dtype; "best rival" names
        # the f32 one, or each dtype's where there are several.
        best_of = {}
        for b, t in rivals.items():
            d = dtype_of(b)
            if d not in best_of or t < rivals[best_of[d]]:
                best_of[d] = b
        cells = [f"{med[b]:.2f}" if b in med else "-" for b in backends]
        ratio = []
        for b in ours:
            best = best_of.get(dtype_of(b))
            ratio.append(f"{rivals[best] / med[b]:.2f}" if best and b in med else "-")
        named = ", ".join(best_of[d] for d in sorted(best_of)) or "-"
        lines.append(f"| {kind}/{shape} | " + " | ".join(cells) + f" | {named} | " + " | ".join(ratio) + " |")
    out = "\n".join(lines) + "\n"
    if errors:
        out += f"\n{len(errors)} rows without a time:\n\n" + "\n".join(f"- {e}" for e in errors) + "\n"
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.stdout.write(table(sys.argv[1:]))
