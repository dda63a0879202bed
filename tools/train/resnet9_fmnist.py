#!/usr/bin/python3
"""ResNet-9 (the HERMES paper's widths) on Fashion-MNIST: float training, hardware-aware
fine-tuning, ONNX export to data/resnet9-fmnist.onnx.

  /usr/bin/python3 tools/train/resnet9_fmnist.py --epochs 2 --hwa-epochs 1

Layout (node order matches lib/network/graph.ts `resnet9`, input 1x28x28):
  conv0 1->56 (28x28) bn relu | conv1 56->112 bn relu maxpool2 -> r1 (14x14)
  conv2 bn relu | conv3 bn relu | add(relu3, r1)
  conv4 112->224 bn relu maxpool2 (7x7)
  conv5 bn relu maxpool2 -> r5 (3x3, floor)
  conv6 bn relu | conv7 bn relu | add(relu7, r5)
  maxpool3 (1x1) flatten dense 224->10 (+bias)
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hwa  # noqa: E402

WIDTHS = [56, 112, 112, 112, 224, 224, 224, 224]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def read_idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class HWConv(nn.Conv2d):
    hw = {"zeta": 0.0, "quant": False, "out_noise": 0.0}

    def forward(self, x):
        hw = self.hw
        if hw["quant"]:
            x = hwa.fake_quant(x)
        w = hwa.noisy(self.weight, hw["zeta"]) if self.training else self.weight
        y = F.conv2d(x, w, None, self.stride, self.padding)
        if self.training:
            y = hwa.out_noise(y, hw["out_noise"])
        if hw["quant"]:
            y = hwa.fake_quant(y)
        return y


class HWLinear(nn.Linear):
    hw = HWConv.hw

    def forward(self, x):
        hw = self.hw
        if not self.training and not hw["quant"]:
            return F.linear(x, self.weight, self.bias)  # exports as one Gemm (transB = 1)
        if hw["quant"]:
            x = hwa.fake_quant(x)
        w = hwa.noisy(self.weight, hw["zeta"]) if self.training else self.weight
        y = F.linear(x, w)
        if self.training:
            y = hwa.out_noise(y, hw["out_noise"])
        if hw["quant"]:
            y = hwa.fake_quant(y)
        return y + self.bias


class ResNet9(nn.Module):
    def __init__(self, in_ch=1, classes=10, widths=WIDTHS):
        super().__init__()
        chans = [in_ch] + list(widths)
        self.convs = nn.ModuleList(
            HWConv(chans[i], chans[i + 1], 3, padding=1, bias=False) for i in range(8))
        self.bns = nn.ModuleList(nn.BatchNorm2d(c) for c in widths)
        self.dense = HWLinear(widths[7], classes)

    def cbr(self, i, x):
        return F.relu(self.bns[i](self.convs[i](x)))

    def forward(self, x):
        x = self.cbr(0, x)
        r1 = F.max_pool2d(self.cbr(1, x), 2)          # 28 -> 14
        x = self.cbr(3, self.cbr(2, r1)) + r1
        x = F.max_pool2d(self.cbr(4, x), 2)           # 14 -> 7
        r5 = F.max_pool2d(self.cbr(5, x), 2)          # 7 -> 3
        x = self.cbr(7, self.cbr(6, r5)) + r5
        x = F.max_pool2d(x, 3)                        # 3 -> 1 (global max for 28x28 inputs)
        x = torch.flatten(x, 1)
        return self.dense(x)

    def weights(self):
        return [c.weight for c in self.convs] + [self.dense.weight]


def augment(x):
    # random horizontal flip + random shift by up to 2 pixels (pad 2, crop 28)
    n = x.shape[0]
    flip = torch.rand(n) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    p = F.pad(x, (2, 2, 2, 2))
    dx, dy = np.random.randint(0, 5, 2)
    return p[:, :, dy:dy + 28, dx:dx + 28]


@torch.no_grad()
def evaluate(model, xs, ys, bs=500, limit=None):
    model.eval()
    n = len(xs) if limit is None else min(limit, len(xs))
    correct = 0
    for i in range(0, n, bs):
        out = model(xs[i:i + bs][: n - i])
        correct += (out.argmax(1) == ys[i:i + bs][: n - i]).sum().item()
    return correct / n


@torch.no_grad()
def evaluate_noisy(model, xs, ys, zeta, bs=500, limit=1000, reps=1):
    """Accuracy with weight noise zeta*(max-min) applied once per repetition (a 'programmed chip')."""
    model.eval()
    saved = [w.clone() for w in model.weights()]
    accs = []
    for _ in range(reps):
        for w in model.weights():
            w.copy_(hwa.noisy(w, zeta))
        accs.append(evaluate(model, xs, ys, bs, limit))
        for w, s in zip(model.weights(), saved):
            w.copy_(s)
    return float(np.mean(accs))


def train_epochs(model, xs, ys, epochs, lr, bs, subset, clip_alpha, label, log_every=50):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    n = len(xs) if subset is None else min(subset, len(xs))
    steps = epochs * (n // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.25)
    step = 0
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xs))[:n]
        tot_loss, tot_ok, seen = 0.0, 0, 0
        for i in range(0, n - bs + 1, bs):
            idx = perm[i:i + bs]
            x, y = augment(xs[idx]), ys[idx]
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if clip_alpha:
                hwa.clip_weights(model.weights(), clip_alpha)
            step += 1
            tot_loss += loss.item() * len(y)
            tot_ok += (out.argmax(1) == y).sum().item()
            seen += len(y)
            if step % log_every == 0:
                el = time.time() - t0
                print(f"[{label}] ep {ep + 1}/{epochs} step {step}/{steps} loss {tot_loss / seen:.4f} "
                      f"train-acc {tot_ok / seen:.4f} {seen / max(el, 1e-9) if ep == 0 else 0:.0f} img/s "
                      f"elapsed {el:.0f}s", flush=True)
        print(f"[{label}] epoch {ep + 1} done: loss {tot_loss / seen:.4f} train-acc {tot_ok / seen:.4f} "
              f"elapsed {time.time() - t0:.0f}s", flush=True)
    return time.time() - t0


@torch.no_grad()
def recalibrate_bn(model, xs, n=10000, bs=500):
    """Re-estimate BatchNorm running statistics with clean (noise-free, unquantised) forward
    passes: after hardware-aware fine-tuning they hold statistics of noisy activations."""
    saved = dict(HWConv.hw)
    HWConv.hw.update(zeta=0.0, quant=False, out_noise=0.0)
    for bn in model.bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    model.train()
    perm = torch.randperm(len(xs))[:n]
    for i in range(0, n, bs):
        model(xs[perm[i:i + bs]])
    for bn in model.bns:
        bn.momentum = 0.1
    HWConv.hw.update(saved)
    model.eval()


def export(model, path):
    from torch.onnx import TrainingMode
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    # TrainingMode.PRESERVE with the model in eval mode: exports inference-mode
    # BatchNormalization nodes and skips the eval peephole pass that would fuse them into Conv.
    torch.onnx.export(model, dummy, path, opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                      training=TrainingMode.PRESERVE, do_constant_folding=False)
    print(f"exported {path} ({os.path.getsize(path)} bytes)", flush=True)


def numpy_reference(onnx_path, x):
    """Independent numpy evaluation of the exported graph (checks the ONNX, not the torch model)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    env = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    env["input"] = x.astype(np.float32)

    def attr(node, name, default=None):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def conv(x, w, pads, strides):
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
        sh, sw = strides
        oh = (xp.shape[2] - kh) // sh + 1
        ow = (xp.shape[3] - kw) // sw + 1
        cols = np.empty((n, c, kh, kw, oh, ow), np.float32)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = xp[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw]
        return np.einsum("nckl hw->nohw".replace(" ", ""), cols, w, optimize=True) \
            if False else np.tensordot(cols, w, axes=([1, 2, 3], [1, 2, 3])).transpose(0, 3, 1, 2)

    ops = set()
    for node in m.graph.node:
        ops.add(node.op_type)
        ins = [env[i] if i else None for i in node.input]
        t = node.op_type
        if t == "Conv":
            k = attr(node, "kernel_shape")
            y = conv(ins[0], ins[1], attr(node, "pads", [0] * 4), attr(node, "strides", [1, 1]))
            if len(ins) > 2 and ins[2] is not None:
                y = y + ins[2][None, :, None, None]
            assert list(k) == list(ins[1].shape[2:])
        elif t == "BatchNormalization":
            xx, s, b, mu, var = ins
            eps = attr(node, "epsilon", 1e-5)
            sh = (1, -1, 1, 1)
            y = (xx - mu.reshape(sh)) / np.sqrt(var.reshape(sh) + eps) * s.reshape(sh) + b.reshape(sh)
        elif t == "Relu":
            y = np.maximum(ins[0], 0)
        elif t == "Add":
            y = ins[0] + ins[1]
        elif t == "MaxPool":
            k = attr(node, "kernel_shape")
            s = attr(node, "strides", k)
            xx = ins[0]
            oh = (xx.shape[2] - k[0]) // s[0] + 1
            ow = (xx.shape[3] - k[1]) // s[1] + 1
            y = np.full(xx.shape[:2] + (oh, ow), -np.inf, np.float32)
            for i in range(k[0]):
                for j in range(k[1]):
                    y = np.maximum(y, xx[:, :, i:i + s[0] * oh:s[0], j:j + s[1] * ow:s[1]])
        elif t == "Flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif t == "Gemm":
            a, b = ins[0], ins[1]
            if attr(node, "transA", 0):
                a = a.T
            if attr(node, "transB", 0):
                b = b.T
            y = attr(node, "alpha", 1.0) * a @ b + attr(node, "beta", 1.0) * (ins[2] if len(ins) > 2 else 0)
        else:
            raise RuntimeError(f"numpy reference: unsupported op {t} ({node.name})")
        env[node.output[0]] = y.astype(np.float32)
    return env[m.graph.output[0].name], sorted(ops), m


def verify(model, path, xs, n=8):
    x = xs[:n]
    with torch.no_grad():
        model.eval()
        ref = model(x).numpy()
    try:
        import onnxruntime as ort  # noqa
        sess = ort.InferenceSession(path)
        got = sess.run(None, {"input": x.numpy()})[0]
        how = "onnxruntime"
    except ImportError:
        got, ops, m = numpy_reference(path, x.numpy())
        how = "numpy re-implementation"
        print(f"ONNX ops: {ops}; nodes: {len(m.graph.node)}; opset "
              f"{[o.version for o in m.opset_import]}", flush=True)
    err = np.abs(got - ref).max()
    print(f"verify {path}: {how} vs torch on {n} test images: max |diff| {err:.2e}, "
          f"argmax agree {np.mean(got.argmax(1) == ref.argmax(1)):.2f}", flush=True)
    assert err < 1e-3 * max(1.0, np.abs(ref).max()), err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "resnet9-fmnist.onnx"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--hwa-epochs", type=int, default=1)
    ap.add_argument("--subset", type=int, default=None, help="training images per epoch (default all 60000)")
    ap.add_argument("--hwa-subset", type=int, default=None)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--hwa-lr", type=float, default=0.01)
    ap.add_argument("--zeta", type=float, default=0.06, help="weight noise std / (Wmax - Wmin) per tile")
    ap.add_argument("--out-noise", type=float, default=0.02, help="output noise std / max|y| per layer")
    ap.add_argument("--clip-alpha", type=float, default=2.0)
    ap.add_argument("--no-quant", action="store_true", help="skip 8-bit I/O fake quantisation")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-limit", type=int, default=None, help="test images to evaluate (default all)")
    ap.add_argument("--resume", default=None, help="start from a saved float state dict (then --epochs more float epochs; 0 = none)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    xtr = torch.from_numpy(read_idx(f"{args.data}/train-images-idx3-ubyte.gz").astype(np.float32) / 255)[:, None]
    ytr = torch.from_numpy(read_idx(f"{args.data}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(read_idx(f"{args.data}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255)[:, None]
    yte = torch.from_numpy(read_idx(f"{args.data}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    print(f"train {tuple(xtr.shape)} test {tuple(xte.shape)}", flush=True)

    model = ResNet9()
    print(f"weights {sum(w.numel() for w in model.weights())}, params {sum(p.numel() for p in model.parameters())}")
    ckpt = os.path.join(ROOT, "tools", "train", ".resnet9-float.pt")
    T = {}
    if args.resume:
        model.load_state_dict(torch.load(args.resume))
        print(f"resumed from {args.resume}", flush=True)
    if args.epochs > 0:
        T["float"] = train_epochs(model, xtr, ytr, args.epochs, args.lr, args.batch, args.subset, 0, "float")
        torch.save(model.state_dict(), ckpt)
    t = time.time()
    acc_f = evaluate(model, xte, yte, limit=args.eval_limit)
    print(f"float model: test accuracy {acc_f:.4f} (eval {time.time() - t:.0f}s)", flush=True)
    print(f"float model with weight noise zeta={args.zeta}: test accuracy (first 1000) "
          f"{evaluate_noisy(model, xte, yte, args.zeta):.4f}", flush=True)
    export(model, args.out)
    verify(model, args.out, xte)

    if args.hwa_epochs > 0:
        HWConv.hw.update(zeta=args.zeta, quant=not args.no_quant, out_noise=args.out_noise)
        hwa.clip_weights(model.weights(), args.clip_alpha)
        T["hwa"] = train_epochs(model, xtr, ytr, args.hwa_epochs, args.hwa_lr, args.batch,
                                args.hwa_subset, args.clip_alpha, "hwa")
        HWConv.hw.update(zeta=0.0, quant=False, out_noise=0.0)
        torch.save(model.state_dict(), os.path.join(ROOT, "tools", "train", ".resnet9-hwa-raw.pt"))
        acc_h = evaluate(model, xte, yte, limit=args.eval_limit)
        print(f"HWA model, BN statistics from the noisy passes: float test accuracy {acc_h:.4f}", flush=True)
        recalibrate_bn(model, xtr)
        acc_h = evaluate(model, xte, yte, limit=args.eval_limit)
        print(f"HWA model, BN recalibrated on 10000 clean training images: float test accuracy {acc_h:.4f}",
              flush=True)
        print(f"HWA model with weight noise zeta={args.zeta}: test accuracy (first 1000) "
              f"{evaluate_noisy(model, xte, yte, args.zeta):.4f}", flush=True)
        export(model, args.out)
        verify(model, args.out, xte)
    print(f"training time: {T}", flush=True)


if __name__ == "__main__":
    main()
