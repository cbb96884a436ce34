#!/usr/bin/env python3
"""tests/fuzz/make_seeds.py DIR - seed corpora for the fuzz targets:
DIR/idx, DIR/csv, DIR/args (DIR/ckpt is filled by tools/fuzz.sh with a real
checkpoint). Valid inputs first, then a few broken ones the tests know."""
import gzip
import os
import struct
import sys


def idx(n, r, c, labels_n=None, magic=0x803):
    img = struct.pack(">IIII", magic, n, r, c) + bytes((7 * i) % 256 for i in range(n * r * c))
    ln = n if labels_n is None else labels_n
    lab = struct.pack(">II", 0x801, ln) + bytes(i % 10 for i in range(ln))
    return img, lab


def pair(img, lab):
    return struct.pack("<I", len(img)) + img + lab


def main():
    d = sys.argv[1]
    for sub in ("idx", "csv", "args", "ckpt"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    seeds = {
        "idx/plain": pair(*idx(4, 2, 2)),
        "idx/gzip": pair(*(gzip.compress(b) for b in idx(3, 3, 1))),
        "idx/mismatch": pair(*idx(4, 2, 2, labels_n=3)),
        "idx/labels_as_images": pair(idx(2, 1, 1)[1], idx(2, 1, 1)[1]),
        "idx/truncated": pair(idx(4, 2, 2)[0][:-3], idx(4, 2, 2)[1]),
        "csv/header": b"x1,x2,label\n1.5,-2,0\n3e2,4,2\n-0.25,0,1\n",
        "csv/plain": b"1,2,1\n3,4,0",
        "csv/crlf": b"0.5 , 1 ,3\r\n2,2,0\r\n",
        "csv/bad": b"1,2,0\n3,abc,1\n",
        "args/reference": b"--epochs\x0010\x00--layers\x00256,128",
        "args/many": b"--lr=0.1\x00--opt\x00adam\x00--dropout\x000.5\x00--batchnorm\x00"
                     b"--lr-schedule\x00cosine\x00--clip-norm\x001\x00--l2\x001e-4",
        "args/bad": b"--layers\x00256,,128\x00--lr\x00nan",
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
