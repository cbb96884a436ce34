#!/usr/bin/python3
"""bench/peers/pytorch_lstm.py - sequential Fashion-MNIST with nn.LSTM.

Trains what `bplab train --model lstm --hidden 128 --data
fashion-mnist-rows --opt adam --lr 0.001` trains: each image scaled to
[0, 1] and read as 28 steps of 28 pixels by one LSTM layer of 128 units
(torch.nn.LSTM, batch_first), its last hidden state into a 10-way linear
layer, softmax cross-entropy, Adam at lr 0.001, batch 128, shuffled every
epoch, the last partial batch kept. Data stay in memory as tensors;
batches are gathered with index_select (no DataLoader), so the figure is
the training step, as bplab's is.

Prints one JSON object per line: per epoch the training time and
sequences/s, then the test accuracy. Thread count: --threads
(torch.set_num_threads). Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
unset (tools/bench.sh does).
"""
import argparse
import os

import torch

from pytorch_mlp import find, load_idx, train


class Net(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lstm = torch.nn.LSTM(28, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get(
        "BPLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.001)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x = load_idx(find(a.data, "train-images-idx3-ubyte")).reshape(-1, 28, 28).float() / 255
    y = load_idx(find(a.data, "train-labels-idx1-ubyte")).long()
    xt = load_idx(find(a.data, "t10k-images-idx3-ubyte")).reshape(-1, 28, 28).float() / 255
    yt = load_idx(find(a.data, "t10k-labels-idx1-ubyte")).long()
    net = Net(a.hidden)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    train(net, opt, x, y, xt, yt, a, {"impl": "pytorch", "model": "lstm"})


if __name__ == "__main__":
    main()
