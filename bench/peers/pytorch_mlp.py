#!/usr/bin/python3
"""bench/peers/pytorch_mlp.py - the reference workload in PyTorch.

Trains exactly what `bplab train` trains by default: Fashion-MNIST scaled to
[0, 1], MLP 784-256-128-10 with ReLU, softmax cross-entropy, SGD with
momentum 0.9 (PyTorch's definition, as bplab's), lr 0.05, batch 128,
shuffled every epoch, the last partial batch kept; weights He-normal
(std sqrt(2/fan_in)) and biases zero, as bplab's "auto" init for ReLU.
Data stay in memory as tensors; batches are gathered with index_select
(no DataLoader), so the figure is the training step, as bplab's is.

Prints one JSON object per line: per epoch the training time and
samples/s, then the test accuracy. Thread count: --threads (torch.set_num_threads).
Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (tools/bench.sh does).
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import torch


def load_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    t = torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8)
    return t.reshape(dims)


def find(folder, name):
    for p in (os.path.join(folder, name + ".gz"), os.path.join(folder, name)):
        if os.path.exists(p):
            return p
    sys.exit("pytorch_mlp.py: %s/%s[.gz] not found" % (folder, name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get(
        "BPLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.05)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = load_idx(find(a.data, "train-images-idx3-ubyte")).reshape(-1, 784).float() / 255
    y = load_idx(find(a.data, "train-labels-idx1-ubyte")).long()
    xt = load_idx(find(a.data, "t10k-images-idx3-ubyte")).reshape(-1, 784).float() / 255
    yt = load_idx(find(a.data, "t10k-labels-idx1-ubyte")).long()
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                              torch.nn.Linear(256, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 10))
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9)
    train(net, opt, x, y, xt, yt, a, {"impl": "pytorch"})


def train(net, opt, x, y, xt, yt, a, tags):
    """a.epochs epochs of shuffled mini-batches of a.batch samples with
    softmax cross-entropy; per epoch one JSON line: tags, threads, epoch,
    training seconds, samples/s and test accuracy."""
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x.shape[0]
    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for i in range(0, n, a.batch):
            idx = perm[i:i + a.batch]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
        secs = time.perf_counter() - t0
        with torch.no_grad():
            acc = (net(xt).argmax(1) == yt).float().mean().item()
        print(json.dumps(dict(tags, threads=a.threads, epoch=epoch,
                              seconds=secs, samples_per_s=n / secs,
                              test_acc=acc)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
