#!/usr/bin/python3
"""Writes the real series of the timeseries benchmark as CSVs, from Debian's python3-statsmodels
(`apt-get install -y python3-statsmodels`; run with /usr/bin/python3, which has it and numpy).

  bench/timeseries_data.py OUTDIR

writes OUTDIR/sunspots.csv (year,sunactivity: yearly sunspot numbers 1700-2008, 309 values),
OUTDIR/elnino.csv (month,temperature: monthly sea surface temperature of the El Nino region
1950-2010, 732 values) and OUTDIR/co2.csv (week,co2: weekly Mauna Loa CO2 1958-2001, 2,284 rows,
59 of them empty: pandas writes NaN as an empty cell, so train it with --fill). statsmodels marks
each data set public domain (its COPYRIGHT field, printed here).
"""
import os
import sys

import statsmodels.datasets as datasets


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    sun = datasets.sunspots.load_pandas().data
    with open(os.path.join(out, "sunspots.csv"), "w") as f:
        f.write("year,sunactivity\n")
        for year, value in zip(sun["YEAR"], sun["SUNACTIVITY"]):
            f.write(f"{int(year)},{value:g}\n")

    nino = datasets.elnino.load_pandas().data
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    with open(os.path.join(out, "elnino.csv"), "w") as f:
        f.write("month,temperature\n")
        for _, row in nino.iterrows():
            for i, m in enumerate(months):
                f.write(f"{int(row['YEAR'])}-{i + 1:02d},{row[m]:g}\n")

    co2 = datasets.co2.load_pandas().data
    co2.index.name = "week"
    co2.to_csv(os.path.join(out, "co2.csv"))  # NaN as an empty cell

    for name, module in (("sunspots", datasets.sunspots), ("elnino", datasets.elnino), ("co2", datasets.co2)):
        print(f"{name}: {module.COPYRIGHT.strip()}")


if __name__ == "__main__":
    main()
