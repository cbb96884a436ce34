#!/usr/bin/env python3
"""tools/check_results.py [--readme FILE] DIR [EXPERIMENT...] - are the
experiment outputs there and well formed? Checks each DIR/<experiment>/:
metrics.csv (a header starting variant,seed,epoch and at least one row whose
numbers parse), summary.md (its sections, and every plot it shows exists as
a real PNG), provenance.json (valid JSON with the provenance fields),
headline.md. It does not judge accuracies. With --readme FILE (DIR being the
committed results/), FILE's experiments table must be the one
tools/experiments.sh writes from the headlines. Exit status 1 with one line
per problem."""
import csv
import json
import os
import re
import sys

PROVENANCE = ["experiment", "status", "git_commit", "git_dirty", "cpu", "isa",
              "threads", "compiler", "flags", "date", "command", "data",
              "seeds", "variants"]


def experiments():
    """The programs tools/experiments.sh runs (its exps= line: one list)."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "experiments.sh")) as f:
        m = re.search(r'^exps="([^"]*)"', f.read(), re.M)
    if not m:
        sys.exit("check_results.py: no exps= line in tools/experiments.sh")
    return m.group(1).split()


def check(d, name, problems):
    def bad(msg):
        problems.append("%s/%s: %s" % (d, name, msg))
    base = os.path.join(d, name)
    try:
        with open(os.path.join(base, "metrics.csv"), newline="") as f:
            rows = list(csv.reader(f))
        if rows[0][:3] != ["variant", "seed", "epoch"]:
            bad("metrics.csv header is %s" % rows[0][:3])
        if len(rows) < 2:
            bad("metrics.csv has no rows")
        for r in rows[1:]:
            if len(r) != len(rows[0]):
                bad("metrics.csv row of %d fields, header has %d" % (len(r), len(rows[0])))
                break
            int(r[1]), int(r[2])
            for v in r[3:]:
                if v:
                    float(v)
    except (OSError, IndexError, ValueError) as e:
        bad("metrics.csv: %s" % e)
    try:
        with open(os.path.join(base, "summary.md")) as f:
            md = f.read()
        for section in ("# ", "**Question.**", "| variant", "## Verdict", "## Plots",
                        "## Provenance"):
            if section not in md:
                bad("summary.md lacks %r" % section)
        pngs = re.findall(r"!\[[^]]*\]\(([^)]+\.png)\)", md)
        if not pngs:
            bad("summary.md shows no plot")
        for p in pngs:
            try:
                with open(os.path.join(base, p), "rb") as f:
                    if f.read(8) != b"\x89PNG\r\n\x1a\n":
                        bad("%s is not a PNG" % p)
            except OSError as e:
                bad("%s: %s" % (p, e))
    except OSError as e:
        bad("summary.md: %s" % e)
    try:
        with open(os.path.join(base, "provenance.json")) as f:
            prov = json.load(f)
        for k in PROVENANCE:
            if k not in prov:
                bad("provenance.json lacks %r" % k)
        if prov.get("experiment") != name:
            bad("provenance.json is for %r" % prov.get("experiment"))
    except (OSError, ValueError) as e:
        bad("provenance.json: %s" % e)
    try:
        with open(os.path.join(base, "headline.md")) as f:
            if not f.read().strip():
                bad("headline.md is empty")
    except OSError as e:
        bad("headline.md: %s" % e)


BEGIN = "<!-- experiments: generated from results/README.md -->"
END = "<!-- /experiments -->"


def check_readme(readme, d, names, problems):
    """readme's table between BEGIN and END against d's headlines."""
    try:
        with open(readme) as f:
            lines = f.read().split("\n")
        block = lines[lines.index(BEGIN) + 1:lines.index(END)]
    except (OSError, ValueError) as e:
        problems.append("%s: no experiments table between its markers (%s)" % (readme, e))
        return
    want = ["| experiment | headline (mean ± sd over seeds) |", "|---|---|"]
    for n in names:
        try:
            with open(os.path.join(d, n, "headline.md")) as f:
                h = f.read().strip()
        except OSError:
            h = "missing"
        want.append("| [%s](results/%s/summary.md) | %s |" % (n, n, h))
    if block != want:
        problems.append("%s: experiments table differs from the headlines in %s "
                        "(bash tools/experiments.sh --index-only rewrites it)" % (readme, d))


def main():
    args = sys.argv[1:]
    readme = None
    if len(args) >= 2 and args[0] == "--readme":
        readme, args = args[1], args[2:]
    if not args:
        sys.exit(__doc__)
    d = args[0]
    names = args[1:] or experiments()
    problems = []
    for n in names:
        check(d, n, problems)
    if readme:
        check_readme(readme, d, names, problems)
    for p in problems:
        print(p)
    print("checked %d experiment folders in %s: %d problems" % (len(names), d, len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
