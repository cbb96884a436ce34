#!/usr/bin/python3
"""bench/peers/pytorch_cnn.py - the reference CNN in PyTorch.

Trains what `bplab train --model cnn` trains: Fashion-MNIST scaled to
[0, 1] as 1 x 28 x 28 images; two 3x3 convolutions (nn.Conv2d, 32 and 64
channels, stride 1, padding 1), each followed by ReLU and a 2x2 max pool
(nn.MaxPool2d), then a dense layer of 128 units with ReLU and a 10-way
linear layer: 421,642 parameters, as bplab counts. Softmax cross-entropy,
SGD with momentum 0.9, lr 0.05, batch 128, shuffled every epoch, the last
partial batch kept; weights He-normal (std sqrt(2/fan_in), fan_in = 9 x
input channels for a convolution) and biases zero, as bplab's "auto" init
for ReLU. Data stay in memory as tensors; batches are gathered with
index_select (no DataLoader), so the figure is the training step, as
bplab's is. --channels-last runs the convolutions on NHWC tensors (bplab's
layout); the default is PyTorch's NCHW.

Prints one JSON object per line: per epoch the training time and
samples/s, then the test accuracy. Thread count: --threads
(torch.set_num_threads). Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
unset (tools/bench.sh does).
"""
import argparse
import os

import torch

from pytorch_mlp import find, load_idx, train


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Linear(64 * 7 * 7, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 10))
        for m in self.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                torch.nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.body(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get(
        "BPLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--channels-last", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    x = (load_idx(find(a.data, "train-images-idx3-ubyte"))
         .reshape(-1, 1, 28, 28).float() / 255).contiguous(memory_format=fmt)
    y = load_idx(find(a.data, "train-labels-idx1-ubyte")).long()
    xt = (load_idx(find(a.data, "t10k-images-idx3-ubyte"))
          .reshape(-1, 1, 28, 28).float() / 255).contiguous(memory_format=fmt)
    yt = load_idx(find(a.data, "t10k-labels-idx1-ubyte")).long()
    net = Net().to(memory_format=fmt)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9)
    layout = "nhwc" if a.channels_last else "nchw"
    train(net, opt, x, y, xt, yt, a,
          {"impl": "pytorch", "model": "cnn", "layout": layout})


if __name__ == "__main__":
    main()
