"""Hardware-aware training helpers shared by the training scripts (see data/README.md).

Follows the HERMES paper's Methods: Gaussian weight noise N(W, zeta*|Wmax - Wmin|) drawn anew
on every forward pass (here per 256x256 tile of the layer's [out, fan-in] matrix, split the way
the chip's mapper splits it), weight clipping to alpha = 2 standard deviations after every update,
optional additive output noise and 8-bit fake quantisation of layer inputs/outputs
(straight-through estimator)."""
import math

import torch

TILE = 256


def tile_splits(n, tile=TILE):
    """Split n rows into the smallest number of equal (+-1) chunks, each <= tile."""
    k = max(1, math.ceil(n / tile))
    base, extra = divmod(n, k)
    return [base + (1 if i < extra else 0) for i in range(k)]


def tile_noise_std(w2d, zeta, tile=TILE):
    """Per-element std = zeta * (max - min) of the 256x256 tile holding it. w2d: [out, fanin]."""
    std = torch.empty_like(w2d)
    r0 = 0
    for rows in tile_splits(w2d.shape[0], tile):
        c0 = 0
        for cols in tile_splits(w2d.shape[1], tile):
            blk = w2d[r0:r0 + rows, c0:c0 + cols]
            std[r0:r0 + rows, c0:c0 + cols] = zeta * (blk.max() - blk.min())
            c0 += cols
        r0 += rows
    return std


def noisy(w, zeta):
    """w plus programming-like Gaussian noise (no gradient through the noise scale)."""
    if zeta <= 0:
        return w
    with torch.no_grad():
        w2d = w.reshape(w.shape[0], -1)
        n = torch.randn_like(w2d) * tile_noise_std(w2d, zeta)
    return w + n.reshape(w.shape)


def fake_quant(x, bits=8, signed=True):
    """Dynamic abs-max fake quantisation (per tensor), straight-through gradient."""
    qmax = 2 ** (bits - 1) - 1 if signed else 2 ** bits - 1
    scale = x.detach().abs().max().clamp_min(1e-8) / qmax
    q = torch.round(x / scale).clamp(-qmax if signed else 0, qmax) * scale
    return x + (q - x).detach()


def out_noise(y, rel):
    """Additive Gaussian noise with std = rel * max|y| (per tensor), like ADC/readout noise."""
    if rel <= 0:
        return y
    return y + torch.randn_like(y) * (rel * y.detach().abs().max())


@torch.no_grad()
def clip_weights(weights, alpha=2.0):
    for w in weights:
        s = w.std()
        w.clamp_(-alpha * s, alpha * s)
