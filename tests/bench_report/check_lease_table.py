"""bench/lease_table.py on hand-made rows: each of our columns is set against the fastest rival
of its own dtype (f32 rows against f32 rivals, _bf16 rows against bf16 ones), never across
dtypes; a shape with no rival of a column's dtype shows '-'; error rows are listed.

  python3 check_lease_table.py <repo>/bench
"""
import importlib.util
import json
import os
import sys
import tempfile

spec = importlib.util.spec_from_file_location("lease_table", os.path.join(sys.argv[1], "lease_table.py"))
lease_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lease_table)

SHAPE = "H:256/B:1/T:100/I:256"
rows = [
    ("lstm/infer/cuda/persistent", 5.0),
    ("lstm/infer/cuda/persistent_bf16", 3.0),
    ("lstm/infer/cuda/standard_f16", 4.0),
    ("lstm/infer/cudnn/persist_static", 6.0),
    ("lstm/infer/cudnn/persist_static_bf16", 2.0),
    ("lstm/infer/torch/bf16", 1.5),
    ("lstm/infer/torch/f32", 7.5),
]
doc = {"benchmarks": [{"name": f"{n}/{SHAPE}", "run_type": "iteration", "us_per_step": t} for n, t in rows]
       + [{"name": f"gru/infer/cuda/standard/{SHAPE}", "run_type": "iteration", "error_occurred": True,
           "error_message": "unsupported: example"}]}
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    json.dump(doc, f)
out = lease_table.table([f.name])
os.unlink(f.name)
header, _, line = out.splitlines()[:3]
columns = [c.strip() for c in header.strip("|").split("|")]
values = dict(zip(columns, [c.strip() for c in line.strip("|").split("|")]))
# f32: the fastest f32 rival is cudnn/persist_static (6.0): 6.0 / 5.0.
assert values["cuda/persistent x rival"] == "1.20", values
# bf16: torch/bf16 (1.5) beats cudnn's bf16 (2.0): 1.5 / 3.0.
assert values["cuda/persistent_bf16 x rival"] == "0.50", values
# f16: no f16 rival on this shape.
assert values["cuda/standard_f16 x rival"] == "-", values
assert "1 rows without a time" in out and "unsupported: example" in out, out
print("lease_table: per-dtype rivals ok")
