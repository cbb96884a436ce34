#!/usr/bin/env python3
"""tests/cli/export_check.py - check bplab export's files with numpy only.

  export_check.py mlp NPZ SAFETENSORS TEST.csv EVAL.out METRICS.csv
  export_check.py rec NPZ SAFETENSORS T EVAL.out METRICS.csv

Reads the .npz with numpy.load (allow_pickle=False), runs the network's
forward pass in float64 from the exported tensors alone (dense, batch norm
on the running statistics with bplab's eps 1e-5, the activation; or an RNN
or LSTM over the time steps), and asserts that the test accuracy equals
`bplab eval`'s exactly and the loss is within 1e-6 of the one bplab
recorded (the metrics file's test_loss, printed with 9 digits; eval prints
4). float32 against float64 differ by about 2e-8 here; BN's eps at 1e-3
instead of 1e-5 moves the MLP's loss by 1e-6, a gate order [f i g o]
instead of [i f g o] its accuracy. `mlp` reads the test set from the CSV; `rec` regenerates the adding
problem's test set (core/data_synth.c, core/rng.c) for T steps. Then it
parses the .safetensors file with struct + json and asserts that every
tensor equals the .npz one bit for bit and that the strings match.
"""
import csv
import json
import re
import struct
import sys

import numpy as np

BN_EPS = 1e-5          # core/net.c BN_EPS
REG_TOLERANCE = 0.04   # core/net.h BP_REG_TOLERANCE
M64 = (1 << 64) - 1


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def load_npz(path):
    z = np.load(path, allow_pickle=False)
    tensors, strings = {}, {}
    for k in z.files:
        a = z[k]
        if a.dtype.kind == "U":
            if a.shape != ():
                fail(f"{k}: a string entry of shape {a.shape}")
            strings[k] = str(a)
        else:
            if a.dtype != np.dtype("<f4"):
                fail(f"{k}: dtype {a.dtype}, expected <f4")
            tensors[k] = a
    if set(strings) != {"format", "net", "spec"}:
        fail(f"npz strings {sorted(strings)}")
    if strings["format"] != "bplab":
        fail(f"npz format {strings['format']!r}")
    return tensors, strings


def spec_of(text):
    opts = {}
    for line in text.splitlines():
        k, _, v = line.partition("=")
        opts[k] = v if _ else True
    return opts


def layers_of(tensors):
    """{layer index: {role: tensor}}, in layer order."""
    by = {}
    for name, a in tensors.items():
        m = re.fullmatch(r"(\d+)\.(dense|bn|rnn|lstm)\.(\w+)", name)
        if not m:
            fail(f"tensor name {name!r} is not <layer>.<kind>.<role>")
        by.setdefault(int(m.group(1)), {})[(m.group(2), m.group(3))] = a
    return dict(sorted(by.items()))


def act(name, x):
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    return np.tanh(x)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def forward(layers, opts, x, steps):
    """The float64 forward pass: returns the outputs (rows x outputs)."""
    idx = list(layers)
    dense = [i for i in idx if ("dense", "weight") in layers[i]]
    h = x.astype(np.float64)
    for i in idx:
        L = {k: v.astype(np.float64) for k, v in layers[i].items()}
        kinds = {k for k, _ in L}
        if kinds == {"rnn"} or kinds == {"lstm"}:
            kind = kinds.pop()
            wih, whh, b = L[kind, "weight_ih"], L[kind, "weight_hh"], L[kind, "bias"]
            f = wih.shape[0]
            H = whh.shape[0]
            seq = h.reshape(h.shape[0], steps, f)  # a sample: its steps in turn
            ht = np.zeros((h.shape[0], H))
            ct = np.zeros((h.shape[0], H))
            for t in range(steps):
                z = seq[:, t, :] @ wih + ht @ whh + b
                if kind == "rnn":
                    ht = np.tanh(z)
                else:  # gate columns [i f g o]
                    gi, gf = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
                    gg, go = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
                    ct = gf * ct + gi * gg
                    ht = go * np.tanh(ct)
            h = ht
        elif kinds == {"dense"}:
            h = h @ L["dense", "weight"] + L["dense", "bias"]
            if i != dense[-1] and (i + 1) not in layers:
                h = act(opts["act"], h)  # no batch norm: activation next
        elif kinds == {"bn"}:
            h = ((h - L["bn", "running_mean"]) / np.sqrt(L["bn", "running_var"] + BN_EPS)
                 * L["bn", "weight"] + L["bn", "bias"])
            h = act(opts["act"], h)
        else:
            fail(f"layer {i}: mixed kinds {sorted(L)}")
    return h


def adding_test_set(T, n, seed):
    """bp_adding(T, n, seed): core/data_synth.c with core/rng.h's streams."""
    def mix(z):
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
        return z ^ (z >> 31)

    key = mix(mix(seed) ^ ((0xadd * 0xd1b54a32d192ed03 + 1) & M64))
    counter = 0

    def u64():
        nonlocal counter
        v = mix((key + (counter + 1) * 0x9e3779b97f4a7c15) & M64)
        counter += 1
        return v

    def below(m):
        p = u64() * m
        if (p & M64) < m:
            threshold = ((1 << 64) - m) % m
            while (p & M64) < threshold:
                p = u64() * m
        return p >> 64

    x = np.zeros((n, 2 * T), dtype=np.float32)
    t = np.zeros(n, dtype=np.float32)
    half = T // 2
    for i in range(n):
        for s in range(T):
            x[i, 2 * s] = np.float32((u64() >> 11) * 2.0 ** -53)
        a = below(half)
        b = half + below(T - half)
        x[i, 2 * a + 1] = x[i, 2 * b + 1] = 1.0
        t[i] = x[i, 2 * a] + x[i, 2 * b]  # a float32 sum, as in C
    return x, t


def eval_numbers(path):
    text = open(path).read()
    m = re.search(r"^test loss ([0-9.]+) accuracy ([0-9.]+)$", text, re.M)
    if not m:
        fail(f"no 'test loss ... accuracy ...' line in {path}: {text!r}")
    return float(m.group(1)), m.group(2)


def metrics_test_loss(path):
    rows = list(csv.DictReader(open(path)))
    return float(rows[-1]["test_loss"])


def check_numbers(loss, right, n, eval_out, metrics):
    e_loss, e_acc = eval_numbers(eval_out)
    m_loss = metrics_test_loss(metrics)
    acc = f"{right / n:.4f}"
    print(f"numpy float64: test loss {loss:.9f} accuracy {acc} ({right}/{n}); "
          f"bplab: eval loss {e_loss} accuracy {e_acc}, metrics loss {m_loss:.9g}")
    if acc != e_acc:
        fail(f"accuracy {acc} from the exported weights, bplab eval says {e_acc}")
    if abs(loss - m_loss) > 1e-6:
        fail(f"loss {loss:.9f} from the exported weights, bplab {m_loss:.9g} "
             f"(difference {abs(loss - m_loss):.3g} > 1e-6)")
    if abs(loss - e_loss) > 5e-5 + 1e-6:  # eval rounds to 4 decimals
        fail(f"loss {loss:.9f} from the exported weights, bplab eval {e_loss}")


def check_safetensors(path, tensors, strings):
    raw = open(path, "rb").read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    if hlen % 8 or 8 + hlen > len(raw):
        fail(f"safetensors header length {hlen}")
    header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    data = raw[8 + hlen:]
    meta = header.pop("__metadata__", None)
    if meta != strings:
        fail(f"safetensors __metadata__ {meta!r} differs from the npz strings")
    if set(header) != set(tensors):
        fail(f"safetensors tensors {sorted(header)} != npz {sorted(tensors)}")
    end = 0
    for name, h in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = h["data_offsets"]
        if h["dtype"] != "F32" or b != end:
            fail(f"{name}: dtype {h['dtype']}, offsets {b}..{e} after {end}")
        a = np.frombuffer(data[b:e], dtype="<f4").reshape(h["shape"])
        ref = tensors[name]
        if a.shape != ref.shape or a.tobytes() != ref.tobytes():
            fail(f"{name}: safetensors {a.shape} differs from npz {ref.shape}")
        end = e
    if end != len(data):
        fail(f"safetensors data has {len(data)} bytes, tensors cover {end}")
    print(f"safetensors: {len(header)} tensors equal the npz bit for bit, "
          f"metadata {sorted(meta)}")


def check_shapes(tensors, layers):
    """Each weight's rows are the width coming in, its columns the bias's."""
    width = None
    for i, L in layers.items():
        for kind in ("dense", "rnn", "lstm"):
            if (kind, "weight_ih" if kind != "dense" else "weight") not in L:
                continue
            w = L[kind, "weight" if kind == "dense" else "weight_ih"]
            b = L[kind, "bias"]
            if w.ndim != 2 or b.shape != (w.shape[1],):
                fail(f"{i}.{kind}: weight {w.shape}, bias {b.shape}")
            if kind == "dense" and width is not None and w.shape[0] != width:
                fail(f"{i}.dense.weight has {w.shape[0]} rows after width {width}")
            width = w.shape[1] if kind == "dense" else L[kind, "weight_hh"].shape[0]
    print("tensors: " + " ".join(f"{n}{list(a.shape)}" for n, a in tensors.items()))


def main():
    mode, npz, st, data, eval_out, metrics = sys.argv[1:7]
    tensors, strings = load_npz(npz)
    opts = spec_of(strings["spec"])
    layers = layers_of(tensors)
    check_shapes(tensors, layers)
    if mode == "mlp":
        rows = np.loadtxt(data, delimiter=",", dtype=np.float64, ndmin=2)
        x = rows[:, :-1].astype(np.float32)  # bplab: strtod, then (float)
        y = rows[:, -1].astype(np.int64)
        if "normalize" in opts or opts.get("loss") != "ce":
            fail("this check covers un-normalised data and --loss ce")
        z = forward(layers, opts, x, 0)
        lse = np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)) + z.max(axis=1)
        loss = float(np.mean(lse - z[np.arange(len(y)), y]))
        right = int(np.sum(np.argmax(z, axis=1) == y))
        check_numbers(loss, right, len(y), eval_out, metrics)
    else:
        T = int(data)
        n = int(opts["samples"]) // 5
        x, t = adding_test_set(T, n, int(opts.get("data-seed", 0)) * 2 + 2)
        z = forward(layers, opts, x, T)[:, 0]
        loss = float(np.mean((z - t.astype(np.float64)) ** 2))
        right = int(np.sum(np.abs(z - t) < REG_TOLERANCE))
        check_numbers(loss, right, n, eval_out, metrics)
    check_safetensors(st, tensors, strings)


if __name__ == "__main__":
    main()
