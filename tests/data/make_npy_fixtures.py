"""Writes the .npy fixtures of tests/test_npy.cpp with real numpy (run once, commit the output):
   /usr/bin/python3 tests/data/make_npy_fixtures.py tests/data"""
import os
import sys

import numpy as np

out = sys.argv[1]


def save(name, array, version=None, allow_pickle=False):
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, array, allow_pickle=allow_pickle)
        else:
            np.lib.format.write_array(f, array, version=version, allow_pickle=allow_pickle)


save("f32_2x3_v1.npy", (np.arange(6, dtype="<f4") * 0.5 - 1).reshape(2, 3), version=(1, 0))
save("f64_scalar.npy", np.array(3.25, dtype="<f8"))
save("i32_1d.npy", np.array([1, -2, 3], dtype="<i4"))
save("i64_2x3x4.npy", (np.arange(24, dtype="<i8") - 12).reshape(2, 3, 4))
save("f32_0x3.npy", np.zeros((0, 3), dtype="<f4"))
save("f64_v2.npy", np.arange(4, dtype="<f8") / 4, version=(2, 0))
save("i32_v3.npy", np.array([7, 8], dtype="<i4"), version=(3, 0))
save("fortran_f32.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
save("bigendian_f4.npy", np.arange(3, dtype=">f4"))
save("object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
save("u8.npy", np.arange(3, dtype="u1"))
save("f16.npy", np.arange(3, dtype="<f2"))
# float16 (issue 30): zeros, the extremes of normal and subnormal numbers, a rounded 1/3, inf, NaN.
save("f16_special.npy", np.array([0.0, -0.0, 1.0, -2.0, 65504.0, 2.0**-14, 2.0**-24, 1023 * 2.0**-24,
                                  1 / 3, np.inf, -np.inf, np.nan], dtype="<f2").reshape(3, 4))
