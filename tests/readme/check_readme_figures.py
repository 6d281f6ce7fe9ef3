#!/usr/bin/env python3
"""The README's headline network table against the code that makes it.

Usage: check_readme_figures.py README.md TABLE_NAME summary.csv

The README marks the table with `<!-- figures: TABLE_NAME -->` on the line before its
header. Every row's config must be in summary.csv (the output of the scenario the table
quotes) with:
  * top-1 within 0.5 points (training is bit-exact for a fixed thread count on one CPU
    type; another CPU's float kernels may move a borderline prediction or two),
  * energy per inference within 3 % or three times the reported interval, whichever is
    larger (the gate-level flow is deterministic for a seed; the tolerance covers the
    model's small differences on another CPU),
  * MAC area within 0.5 µm² (synthesis is deterministic).
Sweep tables (a column "point" holding key=value pairs, e.g. "acc_bits=16 overflow=wrap",
checked against a sweep's summary.csv): a row is the configuration at the point whose
swept keys end in those names and hold those values.
Training tables (a column "energy / step (µJ)"): top-1 as trained against
train_test_accuracy and the energy of one training step against train_step_energy_pj,
with the same tolerances.
Exit 1 with every mismatch listed.
"""
import csv
import re
import sys


def table(readme, name):
    lines = open(readme, encoding="utf-8").read().splitlines()
    marker = f"<!-- figures: {name} -->"
    try:
        i = lines.index(marker)
    except ValueError:
        sys.exit(f"{readme}: no line '{marker}'")
    rows = []
    header = [c.strip() for c in lines[i + 1].strip().strip("|").split("|")]
    for line in lines[i + 3:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, [c.strip() for c in line.strip().strip("|").split("|")])))
    return header, rows


def number(s):
    m = re.match(r"\s*([0-9][0-9 ]*\.?[0-9]*)", s.replace("\u202f", "").replace(",", ""))
    return float(m.group(1).replace(" ", "")) if m else None


def check_training_row(cfg, row, g, errors):
    acc = number(row["top-1 % as trained"])
    if acc is not None and abs(acc - 100 * float(g["train_test_accuracy"])) > 0.5:
        errors.append(f"{cfg}: README top-1 as trained {acc} %, run {100 * float(g['train_test_accuracy']):.2f} %")
    parts = row["energy / step (µJ)"].split("±")
    e = number(parts[0])
    if e is None:
        return
    e_run = float(g["train_step_energy_pj"]) / 1e6
    ci_run = float(g["train_step_energy_ci95_pj"] or 0) / 1e6
    if abs(e - e_run) > max(0.03 * e_run, 3 * ci_run):
        errors.append(f"{cfg}: README step energy {e} µJ, run {e_run:.4g} ± {ci_run:.3g} µJ")


def main():
    readme, name, summary = sys.argv[1:4]
    header, rows = table(readme, name)
    all_rows = list(csv.DictReader(open(summary)))
    got = {r["config"]: r for r in all_rows}
    errors = []
    for row in rows:
        cfg = row["config"].split()[0]
        if "point" in header:  # a sweep: the row at that point
            want = dict(kv.split("=", 1) for kv in row["point"].split())
            match = [r for r in all_rows if r["config"] == cfg and r.get("status", "done") == "done" and
                     all(any(k.endswith("." + key) and r[k] == v for k in r) for key, v in want.items())]
            if len(match) != 1:
                errors.append(f"{row['point']} {cfg}: {len(match)} rows in {summary}")
                continue
            g = match[0]
            cfg = row["point"] + " " + cfg
        elif cfg not in got:
            errors.append(f"{cfg}: not in {summary}")
            continue
        else:
            g = got[cfg]
        if "energy / step (µJ)" in header:
            check_training_row(cfg, row, g, errors)
            continue
        acc = number(row["top-1 %"])
        if acc is not None and abs(acc - 100 * float(g["accuracy"])) > 0.5:
            errors.append(f"{cfg}: README top-1 {acc} %, run {100 * float(g['accuracy']):.2f} %")
        e_col = next(h for h in header if h.startswith("energy / inference"))
        parts = row[e_col].split("±")
        e = number(parts[0])
        e_run = float(g["energy_pj_per_inference"]) / 1e3
        ci_run = float(g["energy_ci95_pj"] or 0) / 1e3
        if e is not None and abs(e - e_run) > max(0.03 * e_run, 3 * ci_run):
            errors.append(f"{cfg}: README energy {e} nJ, run {e_run:.4g} ± {ci_run:.3g} nJ")
        a_col = next((h for h in header if h.startswith("MAC area")), None)
        if a_col:
            a = number(row[a_col])
            if a is not None and abs(a - float(g["unit_area_um2"])) > 0.5 + 0.005 * a:
                errors.append(f"{cfg}: README area {a} µm², run {float(g['unit_area_um2']):.1f} µm²")
    if errors:
        print("README figures differ from the code that makes them:\n  " + "\n  ".join(errors))
        return 1
    print(f"README table '{name}': {len(rows)} rows agree with {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
