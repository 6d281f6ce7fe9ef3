#!/usr/bin/env python3
"""The table of a multi-model scenario (scenarios/aciq.yaml): one row per configuration,
per model its top-1 accuracy, the gap to that model's FP32 row, energy per inference and
the MAC area (MAC-weighted mean over layers), read from <dir>/<model>/summary.csv.

Usage: python3 scripts/aciq_table.py [results/aciq]
Writes <dir>/table.csv, <dir>/table.md and <dir>/accuracy.png (gnuplot, grouped bars).
Files are written to a temporary name and renamed, so a reader never sees half a table."""
import csv
import os
import subprocess
import sys


def atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "results/aciq"
    models = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "summary.csv")))
    if not models:
        sys.exit(f"aciq_table: no <model>/summary.csv under {root} (run: lpsim run scenarios/aciq.yaml)")
    rows, order = {}, []
    for m in models:
        with open(os.path.join(root, m, "summary.csv")) as f:
            for r in csv.DictReader(f):
                if r["config"] not in order:
                    order.append(r["config"])
                rows[(m, r["config"])] = r
    fp32 = {m: float(rows[(m, "fp32")]["accuracy"]) for m in models if (m, "fp32") in rows}

    def cell(m, c):
        r = rows.get((m, c))
        if r is None:
            return None
        acc = 100 * float(r["accuracy"])
        gap = acc - 100 * fp32[m] if m in fp32 else float("nan")
        e = float(r["energy_pj_per_inference"]) / 1e3 if r["energy_pj_per_inference"] not in ("", "nan") else float("nan")
        area = r.get("unit_area_mac_weighted_um2") or r["unit_area_um2"]
        return acc, gap, e, float(area), r.get("weight_bits_mean", ""), r.get("activation_bits_mean", "")

    head = ["config"]
    for m in models:
        head += [f"{m}_top1", f"{m}_gap_to_fp32", f"{m}_nj_per_inference", f"{m}_mac_area_um2"]
    out = [",".join(head)]
    md = ["| configuration | " + " | ".join(f"{m} top-1 % (vs FP32) | {m} nJ/inference | {m} MAC µm² (MAC-weighted)" for m in models) + " |",
          "|---|" + "---|---|---|" * len(models)]
    for c in order:
        line, mdl = [c], [c]
        for m in models:
            v = cell(m, c)
            if v is None:
                line += ["", "", "", ""]
                mdl += ["skipped", "", ""]
                continue
            acc, gap, e, area, _, _ = v
            line += [f"{acc:.2f}", f"{gap:+.2f}", f"{e:.4g}", f"{area:.0f}"]
            mdl += [f"{acc:.2f} ({gap:+.2f})" if c != "fp32" else f"{acc:.2f}", f"{e:.4g}", f"{area:.0f}"]
        out.append(",".join(line))
        md.append("| " + " | ".join(mdl) + " |")
    atomic_write(os.path.join(root, "table.csv"), "\n".join(out) + "\n")
    atomic_write(os.path.join(root, "table.md"), "\n".join(md) + "\n")
    # Grouped bars: top-1 per configuration, one bar per model.
    dat = "config\t" + "\t".join(models) + "\n"
    for c in order:
        vals = []
        for m in models:
            v = cell(m, c)
            vals.append(f"{v[0]:.3f}" if v else "NaN")
        dat += c + "\t" + "\t".join(vals) + "\n"
    atomic_write(os.path.join(root, "accuracy.dat"), dat)
    q = lambda s: "'" + s.replace("'", "''") + "'"
    lo = min(cell(m, c)[0] for m in models for c in order if cell(m, c)) - 2
    gp = (f"set terminal pngcairo size 1300,600 noenhanced\nset output {q(os.path.join(root, 'accuracy.tmp.png'))}\n"
          "set title 'Top-1 accuracy by configuration (post-training, no retraining)'\nset ylabel 'top-1 %'\n"
          f"set yrange [{max(0, lo):.0f}:*]\nset style data histograms\nset style histogram clustered gap 1\n"
          "set style fill solid 0.8 border -1\nset grid ytics\nset key top right\nset xtics rotate by -35\n"
          f"plot for [i=2:{len(models) + 1}] {q(os.path.join(root, 'accuracy.dat'))} using i:xtic(1) title columnheader(i)\n")
    atomic_write(os.path.join(root, "accuracy.gp"), gp)
    try:
        subprocess.run(["gnuplot", os.path.join(root, "accuracy.gp")], check=True, capture_output=True)
        os.replace(os.path.join(root, "accuracy.tmp.png"), os.path.join(root, "accuracy.png"))
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"aciq_table: warning: gnuplot failed ({e}); the data is in accuracy.dat", file=sys.stderr)
    print(open(os.path.join(root, "table.md")).read(), end="")


if __name__ == "__main__":
    main()
