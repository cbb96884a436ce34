#!/usr/bin/env python3
"""tools/bench_report.py DIR BPLAB SECONDS QUICK - turn DIR/kernels.json
(Google Benchmark, medians of repetitions) and DIR/train.jsonl (training
throughput) into DIR/README.md and DIR/provenance.json.

Every ratio in the report comes from one run: the peers (OpenBLAS, oneDNN)
were timed in the same process, right after bplab on the same shape, and
PyTorch in the same invocation of tools/bench.sh. Floors from the issues are
checked and printed as met or NOT MET with the measured figure."""
import datetime
import json
import os
import re
import statistics
import subprocess
import sys


def load_kernels(path):
    """name -> median of the rate counter (GFLOP/s, Gelem/s or samples/s)
    and the median time per iteration in ns."""
    with open(path) as f:
        data = json.load(f)
    rate, time = {}, {}
    for b in data["benchmarks"]:
        name = b["name"]
        if b.get("aggregate_name", "median") != "median":
            continue
        if b.get("error_occurred"):
            continue
        base = re.sub(r"_median$", "", name)
        for key in ("GFLOP/s", "Gelem/s", "samples/s"):
            if key in b:  # rate counters: already per second
                rate[base] = b[key]
                break
        time[base] = b["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
    return data.get("context", {}), rate, time


def fmt(x, digits=1):
    return "n/a" if x is None else ("%.*f" % (digits, x))


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


MISSED = []  # kinds of the floors not met, in order, for the notes
CNN_PEER = []  # PyTorch's better CNN throughput at 1 thread, for its note


def floor_line(ok, text, kind=None):
    if not ok and kind and kind not in MISSED:
        MISSED.append(kind)
    return "- %s %s" % ("met:" if ok else "**NOT MET**:", text)


def limit_note(kind, rate, time, peak, best, thr):
    """What limits a floor that was not met: the analysis behind it, with
    this run's figures where they tell the story."""
    if kind == "gemm":
        sq_dn = rate.get("sgemm/onednn/NN/1024x1024x1024")
        pk = peak.get("avx512")
        dn = (" oneDNN, the best library here, reaches %.0f%% of the peak on "
              "square 1024 in this run." % (100 * sq_dn / pk)) if sq_dn and pk else ""
        return ("GEMM: the AVX-512 micro-kernel (12x32, 24 accumulators; its "
                "inner loop is 24 FMAs, 12 broadcasts and 2 loads per k, no "
                "spills) runs at 99% of the FMA peak with its operands in L1, "
                "and at 97-98% in a bare copy of the direct nest over the "
                "MLP shapes (both measured on a Zen 4; 6x64, 8x48 and 14x32 "
                "tiles the same; 94-98% on a Zen 5, whose FMAs are twice as "
                "wide). The rest goes to what each call and each tile do "
                "once: C loaded and stored per KC block (k = 784 runs as 3-4 "
                "blocks), edge tiles, the driver. On the squares, packing A "
                "and B takes about 5% of the time (2048^3 on a Zen 5), and "
                "C's tiles travel to L3 and back once per KC block of the "
                "packed nest (1024 long since b283887)." + dn + " Between "
                "runs the ratios to the peers move by about 3%, so a ratio at "
                "the edge of a floor is met in one run and not the next. "
                "Tried and measured without gain: packing B in the direct "
                "nest; KC deeper than 256 on the MLP shapes.")
    if kind == "narrow":
        return ("Narrow GEMMs (the 10-class layer): with n = 10 only 10 of a "
                "vector's 16 lanes work, and with k = 10 each tile does 10 "
                "FMAs per load and store of C, so these calls (2-4 us) are "
                "bound by C traffic and call overhead; together they are "
                "about 1% of a training step.")
    if kind == "train1":
        g = time.get("train_step_gemms/%s/batch128/threads:1" % best)
        p1 = thr.get(("pytorch", "", 1))
        extra = ""
        if g and p1:
            ceil = 128 / (g * 1e-9)
            extra = (" The step's GEMMs alone take %.0f us here, so even with "
                     "every other kernel free a step could reach at most %.0f "
                     "samples/s = %.2fx PyTorch." % (g / 1e3, ceil, ceil / p1[0]))
        return ("Training at 1 thread is GEMM-bound." + extra + " Of the "
                "rest, the momentum update is bandwidth bound (20 bytes per "
                "parameter, 235k parameters: 4-9% of a step under "
                "--profile) and the batch gather (random rows) 4-7%. A "
                "weight-gradient GEMM that applied the update in its "
                "epilogue would save one of the update's five streams (the "
                "re-read of the gradient: w, v and g in, w and v out), "
                "about 1% of a step; not built.")
    if kind == "transc":
        cp = rate.get("copy/1048576")
        lm = rate.get("sigmoid_libmvec/%s/1048576" % best)
        extra = (" At 1Mi floats (4 MiB in, 4 MiB out: beyond the L2) a plain "
                 "copy of the same arrays runs at %.2f Gelem/s in this run, so "
                 "2x libmvec (%.2f) would be %.2fx the speed of memory."
                 % (cp, 2 * lm, 2 * lm / cp)) if cp and lm else ""
        return ("sigmoid/tanh: exp by a 16-entry (AVX-512) or 8-entry (AVX2) "
                "register table (vpermps) and a short "
                "polynomial, the reciprocal by rcp14 and a Newton step; within "
                "6 (sigmoid) and 4 (tanh) ulp of the reference. In cache the "
                "kernel is bound by its own instruction count; tanh "
                "evaluates both of its formulas (an odd polynomial below "
                "|x| = 0.625, 1 - 2/(e^2|x| + 1) above) and selects, and is "
                "compared against libmvec's sigmoid as the issue states." + extra)
    if kind == "conv":
        def gf(p, shape, macs):
            t = time.get("%s/%s/%s/threads:1" % (p, best, shape))
            return 2 * macs / t if t else None
        c1 = gf("conv_fwd", "conv1", CONV_SHAPES[0][2])
        c2 = gf("conv_fwd", "conv2", CONV_SHAPES[1][2])
        rates = (" In this run bplab's forward pass runs at %.0f GFLOP/s on "
                 "conv1 and %.0f on conv2." % (c1, c2)) if c1 and c2 else ""
        return ("Convolutions (core/layers/conv.c): the forward passes of "
                "both are direct (conv_direct: a tile of pixels by output "
                "channels in registers, the image read in place), conv1's "
                "weight gradient too (conv_direct_wgrad); conv2's weight "
                "gradient is im2col and a TN GEMM per block of 2 images, its "
                "input gradient an NT GEMM (k = 64) and col2im per block, "
                "where oneDNN's backward-data primitive computes from the "
                "gradient image directly. Between runs these ratios move by "
                "5-10% (the oneDNN side too), so the ones near a floor are "
                "met in one run and not the next." + rates)
    if kind == "cnn1":
        p1 = CNN_PEER[0] if CNN_PEER else None
        pk = peak.get(best)
        need = (" Twice PyTorch's %.0f samples/s is %.0f GFLOP/s of the "
                "step's multiply-adds, %.0f%% of this run's %s FMA peak, for "
                "the whole step: pools, activations, the batch gather, the "
                "update and all." % (p1, 2 * p1 * CNN_FLOPS / 1e9, 100 * 2 *
                                     p1 * CNN_FLOPS / 1e9 / pk, best)
                ) if p1 and pk else ""
        return ("CNN training at 1 thread is bound by its multiply-adds: "
                "--profile (1 thread, 12800 images) puts the GEMMs at 85-89% "
                "of the FMA peak and the direct convolutions at 77-82%, "
                "together about 80% of a step, the max pool of the second "
                "convolution, im2col and col2im of its backward pass, and "
                "the ReLU deltas most of the rest." + need)
    return kind


# FLOPs of one training sample of the reference CNN: the forward GEMMs
# (conv1 28x28 pixels x 32 x 9, conv2 14x14 x 64 x 288, dense 3136 x 128,
# head 128 x 10) twice over for the weight gradients, and again for the
# input gradients of all but the first layer; 2 FLOPs a multiply-add.
CNN_FLOPS = 2 * (2 * (784 * 32 * 9 + 196 * 64 * 288 + 3136 * 128 + 128 * 10)
                 + (196 * 64 * 288 + 3136 * 128 + 128 * 10))


# The reference CNN's two convolutions (3x3, stride 1, padding 1, batch
# 128): name in bench_kernels, what it does, multiply-adds per pass.
CONV_SHAPES = (("conv1", "28x28x1 -> 28x28x32", 128 * 784 * 32 * 9),
               ("conv2", "14x14x32 -> 14x14x64", 128 * 196 * 64 * 288))


def conv_table(w, floors, rate, time, best, kernels_json):
    """bplab's conv layer (best table) against oneDNN's convolution
    primitives, per shape, pass and thread count, with issue 14's floors
    at 1 thread (speed ratio = oneDNN's time / bplab's)."""
    def tm(p, impl, shape, t):
        return time.get("%s/%s/%s/threads:%d" % (p, impl, shape, t))
    if not any(k.startswith("conv_fwd/") for k in time):
        return
    w("## The reference CNN's convolutions, one layer at a time (batch 128)")
    w("")
    w("Each convolution of the reference CNN alone, bplab's conv layer (its "
      "forward and backward as a training step calls them, table %s) beside "
      "oneDNN's convolution primitives (C API: NHWC activations, the weight "
      "format oneDNN picks, reordered before the timing; forward_training "
      "with bias; backward data; backward weights with the bias gradient), "
      "in the same process on the same operands, each checked against the "
      "scalar table first. bplab's weight gradient is its backward pass "
      "without the input gradient (need_dx false: im2col again, the TN GEMM, "
      "the bias gradient); its input gradient is the difference between its "
      "whole backward pass (need_dx true, adding the NT GEMM and col2im) and "
      "that, so it carries the noise of two measurements; both gradients is "
      "the whole backward pass, against oneDNN's backward data then backward "
      "weights. In training the first convolution skips its input gradient. "
      "Ratio: oneDNN's time over bplab's (above 1: bplab is faster)." % best)
    w("")
    w("| shape | pass | threads | bplab %s | oneDNN | bplab GFLOP/s | oneDNN GFLOP/s | ratio | floor |" % best)
    w("|---|---|---|---|---|---|---|---|---|")
    for shape, desc, macs in CONV_SHAPES:
        for t in (1, 2):
            bw, bb = tm("conv_bwd_weights", best, shape, t), tm("conv_bwd", best, shape, t)
            passes = (
                ("forward", tm("conv_fwd", best, shape, t), tm("conv_fwd", "onednn", shape, t), 0.9, 1),
                ("weight gradient", bw, tm("conv_bwd_weights", "onednn", shape, t), 0.8, 1),
                ("input gradient", bb - bw if bb and bw and bb > bw else None,
                 tm("conv_bwd_data", "onednn", shape, t), 0.8, 1),
                ("both gradients", bb, tm("conv_bwd", "onednn", shape, t), None, 2))
            for name, me, dn, fl, mul in passes:
                if me is None and dn is None:
                    continue
                gf = [None if x is None else 2 * mul * macs / x for x in (me, dn)]
                r = ratio(dn, me)
                w("| %s (%s) | %s | %d | %s | %s | %s | %s | %s | %s |" % (
                    shape, desc, name, t,
                    "n/a" if me is None else "%.0f us" % (me / 1e3),
                    "n/a" if dn is None else "%.0f us" % (dn / 1e3),
                    fmt(gf[0]), fmt(gf[1]), fmt(r, 2) + ("x" if r else ""),
                    "%.1fx" % fl if fl and t == 1 else ""))
                if fl and t == 1 and r is not None:
                    floors.append(floor_line(r >= fl,
                        "CNN %s %s at 1 thread: bplab %s %.0f us = %.2fx oneDNN's speed (%.0f us) (floor %.1fx)"
                        % (shape, name, best, me / 1e3, r, dn / 1e3, fl), "conv"))
                elif fl and t == 1 and dn is not None and bb and bw:
                    floors.append(floor_line(False,
                        "CNN %s %s at 1 thread: no figure, bplab's whole backward pass took no longer than its weight gradient alone in this run (noise) (floor %.1fx)"
                        % (shape, name, fl)))
    w("")
    # which implementation oneDNN chose for each (the benchmark's label)
    impls = []
    with open(kernels_json) as f:
        for b in json.load(f)["benchmarks"]:
            m = re.match(r"(conv_[a-z_]+)/onednn/(conv\d)/threads:(\d)", b["name"])
            if m and b.get("label") and (m.group(1), m.group(2), b["label"]) not in impls:
                impls.append((m.group(1), m.group(2), b["label"]))
    if impls:
        w("oneDNN's implementations in this run: " + "; ".join(
            "%s %s: %s" % (s, p[len("conv_"):], l) for p, s, l in impls
            if p != "conv_bwd") + ".")
        w("")


def throughput_table(w, runs, unit):
    """Write the table of training runs (JSON lines, one per epoch) grouped
    by (impl, isa or wait policy, threads); return that key -> (median
    rate, final test accuracy, epochs)."""
    w("| implementation | threads | %s | test accuracy | epochs |" % unit)
    w("|---|---|---|---|---|")
    groups = {}
    for r in runs:
        key = (r["impl"], r.get("isa", r.get("wait_policy", r.get("layout", ""))),
               r["threads"])
        groups.setdefault(key, []).append(r)
    thr = {}
    for key, rs in groups.items():
        sps = statistics.median(r["samples_per_s"] for r in rs)
        acc = rs[-1].get("final_test_acc", rs[-1]["test_acc"])
        thr[key] = (sps, acc, len(rs))
        label = ("bplab %s" % key[1]) if key[0] == "bplab" else ("PyTorch %s" % {
            "PASSIVE": "(OMP_WAIT_POLICY=PASSIVE)", "nchw": "(NCHW)",
            "nhwc": "(channels-last)"}.get(key[1], ""))
        w("| %s | %d | %.0f | %s | %d |" % (label, key[2], sps, fmt(acc, 4), len(rs)))
    w("")
    return thr


def main():
    out, bplab, seconds, quick = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    ctx, rate, time = load_kernels(os.path.join(out, "kernels.json"))
    info = subprocess.run([bplab, "info"], capture_output=True, text=True).stdout
    cpu = re.search(r"^cpu +(.*)$", info, re.M).group(1)
    listed = [i.strip() for i in re.search(r"^isas +(.*)$", info, re.M).group(1).split(",")]
    isas = [i for i in listed if "(" not in i]  # usable here
    # every ISA bplab knows, usable or not: "neon (not built into this binary)"
    isa_alt = "|".join(re.escape(i.split(" ")[0]) for i in listed)
    simd = [i for i in isas if i != "scalar"]
    best = simd[-1] if simd else "scalar"
    lines = []
    w = lines.append
    w("# Benchmarks")
    w("")
    if quick:
        w("> Quick run (`tools/bench.sh --quick`): a subset, for a smoke test.")
        w("")
    w("Written by `tools/bench.sh` on %s (%d s). Rates are medians of %s "
      "repetitions; every ratio compares figures of the same run. OpenBLAS "
      "and oneDNN were called in the same process on the same operands, "
      "right after bplab (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so "
      "OpenBLAS uses its AVX-512 kernels). Raw data: kernels.json "
      "(Google Benchmark), train.jsonl, provenance.json."
      % (cpu, seconds, "2" if quick else "5"))
    w("")
    peak = {k.split("/")[1]: v for k, v in rate.items() if k.startswith("fma_peak/")}
    w("FMA peak measured in this run: " + ", ".join(
        "%s %s GFLOP/s" % (i, fmt(p)) for i, p in peak.items() if p))
    w("")
    floors = []

    # ---- GEMM
    w("## GEMM (1 thread, GFLOP/s)")
    w("")
    hdr = "| layout | m x n x k | " + " | ".join(isas) + " | OpenBLAS | oneDNN | %s / OpenBLAS | %s / oneDNN | %s %% of peak |" % (best, best, best)
    w(hdr)
    w("|" + "---|" * (hdr.count("|") - 1))
    shapes = []
    for b in (32, 128, 512):
        shapes += [("NN", b, 256, 784), ("NN", b, 128, 256), ("NN", b, 10, 128),
                   ("TN", 784, 256, b), ("TN", 256, 128, b), ("TN", 128, 10, b),
                   ("NT", b, 256, 128), ("NT", b, 128, 10)]
    shapes += [("NN", s, s, s) for s in (256, 512, 1024, 2048)]
    for (lay, m, n, k) in shapes:
        key = "%s/%dx%dx%d" % (lay, m, n, k)
        vals = [rate.get("sgemm/%s/%s" % (i, key)) for i in isas]
        ob = rate.get("sgemm/openblas/%s" % key)
        dn = rate.get("sgemm/onednn/%s" % key)
        me = rate.get("sgemm/%s/%s" % (best, key))
        if me is None and ob is None:
            continue
        pk = peak.get(best)
        w("| %s | %d x %d x %d | %s | %s | %s | %s | %s | %s |" % (
            lay, m, n, k, " | ".join(fmt(v) for v in vals), fmt(ob), fmt(dn),
            fmt(ratio(me, ob), 2), fmt(ratio(me, dn), 2),
            fmt(100 * me / pk if me and pk else None, 0)))
    w("")
    # floors on the batch-128 reference shapes
    ref = [("NN", 128, 256, 784), ("NN", 128, 128, 256), ("NN", 128, 10, 128),
           ("TN", 784, 256, 128), ("TN", 256, 128, 128), ("TN", 128, 10, 128),
           ("NT", 128, 256, 128), ("NT", 128, 128, 10)]
    if best == "avx512":
        for (lay, m, n, k) in ref:
            key = "%s/%dx%dx%d" % (lay, m, n, k)
            me, ob, dn = (rate.get("sgemm/%s/%s" % (x, key)) for x in ("avx512", "openblas", "onednn"))
            narrow = 10 in (m, n, k)
            if me is None:
                continue
            if narrow:
                better = max(v for v in (ob, dn) if v is not None) if (ob or dn) else None
                floors.append(floor_line(better is not None and me >= better,
                    "GEMM %s %dx%dx%d (narrow): AVX-512 %.1f GFLOP/s = %.2fx the better peer (%s)"
                    % (lay, m, n, k, me, ratio(me, better) or 0, fmt(better)), "narrow"))
            else:
                floors.append(floor_line(ob is not None and me >= 1.1 * ob,
                    "GEMM %s %dx%dx%d: AVX-512 %.2fx OpenBLAS (floor 1.1x)" % (lay, m, n, k, ratio(me, ob) or 0),
                    "gemm"))
                if dn is not None:
                    floors.append(floor_line(me >= 0.95 * dn,
                        "GEMM %s %dx%dx%d: AVX-512 %.2fx oneDNN (floor 0.95x)" % (lay, m, n, k, ratio(me, dn)),
                        "gemm"))
        sq = rate.get("sgemm/avx512/NN/1024x1024x1024")
        if sq and peak.get("avx512"):
            floors.append(floor_line(sq >= 0.9 * peak["avx512"],
                "square 1024 NN: %.1f GFLOP/s = %.0f%% of the AVX-512 FMA peak (floor 90%%)"
                % (sq, 100 * sq / peak["avx512"]), "gemm"))
    if "avx2" in isas and peak.get("avx2"):
        for (lay, m, n, k) in ref:
            if 10 in (m, n, k):
                continue
            v = rate.get("sgemm/avx2/%s/%dx%dx%d" % (lay, m, n, k))
            if v:
                floors.append(floor_line(v >= 0.9 * peak["avx2"],
                    "AVX2 GEMM %s %dx%dx%d: %.0f%% of the AVX2 peak (floor 90%%)"
                    % (lay, m, n, k, 100 * v / peak["avx2"])))

    # ---- threads
    w("## Two threads")
    w("")
    w("| GEMM | 1 thread | 2 threads | speed-up |")
    w("|---|---|---|---|")
    t1sum = t2sum = 0.0
    for (lay, m, n, k) in ref + [("NN", 1024, 1024, 1024)]:
        key = "sgemm/%s/%s/%dx%dx%d" % (best, lay, m, n, k)
        a, b = time.get(key), time.get(key + "/threads:2")
        if a and b:
            w("| %s %dx%dx%d | %.1f us | %.1f us | %.2fx |" % (lay, m, n, k, a / 1e3, b / 1e3, a / b))
            if m != 1024:
                t1sum += a
                t2sum += b
    if t1sum and t2sum:
        w("| the step's 8 GEMMs together | %.1f us | %.1f us | %.2fx |" % (t1sum / 1e3, t2sum / 1e3, t1sum / t2sum))
        floors.append(floor_line(t1sum / t2sum >= 1.6,
            "2 threads on the batch-128 step's GEMMs together: %.2fx (floor 1.6x)" % (t1sum / t2sum)))
    a, b = time.get("sgemm/%s/NN/1024x1024x1024" % best), time.get("sgemm/%s/NN/1024x1024x1024/threads:2" % best)
    if a and b:
        floors.append(floor_line(a / b >= 1.8, "2 threads on square 1024: %.2fx (floor 1.8x)" % (a / b)))
    w("")

    # ---- training step vs its GEMMs
    w("## A training step of the reference workload (batch 128)")
    w("")
    w("| table | threads | step | its GEMMs alone | step / GEMMs |")
    w("|---|---|---|---|---|")
    for i in isas:
        for t in (1, 2):
            s = time.get("train_step/%s/batch128/threads:%d" % (i, t))
            g = time.get("train_step_gemms/%s/batch128/threads:%d" % (i, t))
            if s and g:
                w("| %s | %d | %.0f us | %.0f us | %.2f |" % (i, t, s / 1e3, g / 1e3, s / g))
                if i == best and t == 1:
                    floors.append(floor_line(s / g <= 1.3,
                        "%s step time %.2fx its GEMMs alone at 1 thread (floor 1.3x)" % (i, s / g)))
    w("")

    # ---- training throughput
    runs = []
    try:
        with open(os.path.join(out, "train.jsonl")) as f:
            runs = [json.loads(l) for l in f if l.strip()]
    except OSError:
        pass
    w("## Training throughput: one epoch of the reference workload")
    w("")
    w("Samples per second of training (data in memory, evaluation excluded), "
      "median over the epochs of one run; test accuracy after the run.")
    w("")
    thr = throughput_table(w, runs, "samples/s")
    b1, b2 = thr.get(("bplab", best, 1)), thr.get(("bplab", best, 2))
    p1 = thr.get(("pytorch", "", 1))
    p2 = [v for k, v in thr.items() if k[0] == "pytorch" and k[2] == 2]
    if b1 and p1:
        floors.append(floor_line(b1[0] >= 1.5 * p1[0],
            "training at 1 thread: bplab %.0f samples/s = %.2fx PyTorch %.0f (floor 1.5x)" % (b1[0], b1[0] / p1[0], p1[0]),
            "train1"))
        if b1[2] == p1[2]:
            floors.append(floor_line(abs(b1[1] - p1[1]) <= 0.005,
                "test accuracy after %d epochs: bplab %.4f, PyTorch %.4f (within 0.5 points)" % (b1[2], b1[1], p1[1])))
    if b2 and p2:
        pb = max(v[0] for v in p2)
        floors.append(floor_line(b2[0] >= 2 * pb,
            "training at 2 threads: bplab %.0f samples/s = %.2fx PyTorch's best 2-thread setting %.0f (floor 2x)" % (b2[0], b2[0] / pb, pb)))

    # ---- LSTM training throughput
    lruns = []
    try:
        with open(os.path.join(out, "lstm.jsonl")) as f:
            lruns = [json.loads(l) for l in f if l.strip()]
    except OSError:
        pass
    if lruns:
        w("## LSTM training throughput: sequential Fashion-MNIST")
        w("")
        w("One LSTM layer of 128 units over 28 steps of 28 pixels, a 10-way "
          "head, batch 128, Adam at lr 0.001 (`bplab train --model lstm "
          "--data fashion-mnist-rows`; bench/peers/pytorch_lstm.py with "
          "torch.nn.LSTM). Sequences per second of training, median over "
          "the epochs of one run; test accuracy after the run.")
        w("")
        lt = throughput_table(w, lruns, "sequences/s")
        l1 = [v for k, v in lt.items() if k[0] == "bplab" and k[2] == 1]
        l2 = [v for k, v in lt.items() if k[0] == "bplab" and k[2] == 2]
        q1 = lt.get(("pytorch", "", 1))
        q2 = [v for k, v in lt.items() if k[0] == "pytorch" and k[2] == 2]
        if l1 and q1:
            floors.append(floor_line(l1[0][0] >= 1.5 * q1[0],
                "LSTM training at 1 thread: bplab %.0f sequences/s = %.2fx PyTorch's nn.LSTM %.0f (floor 1.5x)"
                % (l1[0][0], l1[0][0] / q1[0], q1[0])))
        if l2 and q2:
            qb = max(v[0] for v in q2)
            w("At 2 threads bplab trains %.2fx as many sequences per second "
              "as PyTorch's best 2-thread setting." % (l2[0][0] / qb))
            w("")

    # ---- CNN training throughput
    cruns = []
    try:
        with open(os.path.join(out, "cnn.jsonl")) as f:
            cruns = [json.loads(l) for l in f if l.strip()]
    except OSError:
        pass
    if cruns:
        w("## CNN training throughput: the reference CNN on Fashion-MNIST")
        w("")
        w("3x3 convolutions of 32 and 64 channels (stride 1, padding 1), each "
          "with ReLU and a 2x2 max pool, a dense layer of 128 and a 10-way "
          "head, batch 128, momentum 0.9 at lr 0.05 (`bplab train --model "
          "cnn`; bench/peers/pytorch_cnn.py with torch.nn.Conv2d, in PyTorch's "
          "NCHW layout and in channels-last). Samples per second of training, "
          "median over the epochs of one run; test accuracy after the run. A "
          "training sample is %.1f MFLOP (forward, weight and input "
          "gradients of the convolutions and dense layers)." % (CNN_FLOPS / 1e6))
        w("")
        ct = throughput_table(w, cruns, "samples/s")
        c1 = [v for k, v in ct.items() if k[0] == "bplab" and k[2] == 1]
        c2 = [v for k, v in ct.items() if k[0] == "bplab" and k[2] == 2]
        r1 = [v for k, v in ct.items() if k[0] == "pytorch" and k[2] == 1]
        if c1 and r1:
            rb = max(v[0] for v in r1)
            CNN_PEER.append(rb)
            floors.append(floor_line(c1[0][0] >= 2 * rb,
                "CNN training at 1 thread: bplab %.0f samples/s = %.2fx PyTorch's better layout %.0f (floor 2x)"
                % (c1[0][0], c1[0][0] / rb, rb), "cnn1"))
        if c1 and c2:
            floors.append(floor_line(c2[0][0] >= 1.8 * c1[0][0],
                "CNN training at 2 threads: %.2fx its 1-thread throughput (floor 1.8x)"
                % (c2[0][0] / c1[0][0])))
        if c1 and peak.get(best):
            eff = c1[0][0] * CNN_FLOPS / 1e9 / peak[best]
            floors.append(floor_line(eff >= 0.65,
                "CNN training at 1 thread: its FLOPs at %.0f%% of the %s FMA peak, batch gather and all (floor 65%%)"
                % (100 * eff, best)))

    # ---- the reference CNN's convolutions, layer by layer, beside oneDNN
    conv_table(w, floors, rate, time, best, os.path.join(out, "kernels.json"))

    # ---- element-wise
    w("## Element-wise kernels (Gelem/s)")
    w("")
    w("At 16Ki floats per array (cache-resident) and 16Mi (DRAM). The copy "
      "and stream2 rows are the plain-memory baselines (copy: read one array, "
      "write one; stream2: read two, write one). Speed-up: over the scalar "
      "reference at the same size.")
    w("")
    sizes = (16384, 16777216)
    names = sorted({re.sub(r"/[^/]+/\d+$", "", k) for k in rate
                    if re.match(r"[a-z_0-9]+/(%s)/\d+$" % isa_alt, k)})
    w("| kernel | size | " + " | ".join(isas) + " | %s speed-up | %s time / copy time |" % (best, best))
    w("|---|---|" + "---|" * len(isas) + "---|---|")
    for name in names:
        for n in sizes:
            vals = [rate.get("%s/%s/%d" % (name, i, n)) for i in isas]
            if all(v is None for v in vals):
                continue
            me = rate.get("%s/%s/%d" % (name, best, n))
            sc = rate.get("%s/scalar/%d" % (name, n))
            two_in = name in ("relu_bwd", "sigmoid_bwd", "tanh_bwd", "dropout_bwd")
            base_t = time.get("%s/%d" % ("stream2" if two_in else "copy", n))
            me_t = time.get("%s/%s/%d" % (name, best, n))
            w("| %s | %s | %s | %s | %s |" % (name, "16Ki" if n == 16384 else "16Mi",
                " | ".join(fmt(v, 2) for v in vals), fmt(ratio(me, sc), 1) + "x",
                fmt(ratio(me_t, base_t), 2)))
            if name in ("relu_fwd", "relu_bwd", "sigmoid_bwd", "tanh_bwd") and me_t and base_t:
                floors.append(floor_line(me_t <= 1.3 * base_t,
                    "%s (%s) at %s: %.2fx the time of a plain copy of the same arrays (floor 1.3x)"
                    % (name, best, "16Ki" if n == 16384 else "16Mi", me_t / base_t)))
    for n in sizes:
        for base in ("copy", "stream2"):
            v = rate.get("%s/%d" % (base, n))
            if v:
                w("| %s | %s | %s |" % (base, "16Ki" if n == 16384 else "16Mi", fmt(v, 2)) + " |" * (len(isas) + 1))
    w("")
    for fn in ("sigmoid_fwd", "tanh_fwd"):
        for n in (16384, 1048576):
            me = rate.get("%s/%s/%d" % (fn, best, n))
            lm = rate.get("sigmoid_libmvec/%s/%d" % (best, n))
            if me and lm:
                floors.append(floor_line(me >= 2 * lm,
                    "%s (%s) on %s floats: %.2f Gelem/s = %.2fx glibc's libmvec sigmoid %.2f (floor 2x)"
                    % (fn, best, "16Ki" if n == 16384 else "1Mi", me, me / lm, lm), "transc"))
    # row kernels
    w("| row kernel | shape | " + " | ".join(isas) + " |")
    w("|---|---|" + "---|" * len(isas))
    # every <kernel>/<isa>/<rows>x<cols> the run has (sgemm names have a
    # layout between), in the order the benchmark binary registered them
    row_kernels = []
    for b in json.load(open(os.path.join(out, "kernels.json")))["benchmarks"]:
        m = re.match(r"([a-z_0-9]+)/(%s)/(\d+x\d+)(_median)?$" % isa_alt, b["name"])
        if m and (m.group(1), m.group(3)) not in row_kernels:
            row_kernels.append((m.group(1), m.group(3)))
    for name, shape in row_kernels:
        vals = [rate.get("%s/%s/%s" % (name, i, shape)) for i in isas]
        if any(vals):
            w("| %s | %s | %s |" % (name, shape, " | ".join(fmt(v, 2) for v in vals)))
    w("")

    # ---- floors
    w("## Floors of the issues")
    w("")
    w("Each line is computed from the figures above.")
    w("")
    lines += floors if floors else ["- (none checked in this run)"]
    w("")
    if MISSED:
        w("## What limits the floors not met")
        w("")
        for kind in MISSED:
            w("- " + limit_note(kind, rate, time, peak, best, thr))
        w("")
    with open(os.path.join(out, "README.md.tmp"), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(os.path.join(out, "README.md.tmp"), os.path.join(out, "README.md"))

    commit = re.search(r"commit ([0-9a-f]+|unknown)(, modified)?", info)
    prov = {
        "tool": "tools/bench.sh", "quick": quick, "seconds": seconds,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": commit.group(1) if commit else "unknown",
        "git_dirty": bool(commit and commit.group(2)),
        "cpu": cpu, "isas": isas, "bplab_info": info,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "google_benchmark_context": ctx,
    }
    with open(os.path.join(out, "provenance.json"), "w") as f:
        json.dump(prov, f, indent=2)
        f.write("\n")
    print("\n".join(floors))


if __name__ == "__main__":
    main()
