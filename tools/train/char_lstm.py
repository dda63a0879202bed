#!/usr/bin/python3
"""Character LSTM (embedding 128, one LSTM layer hidden 504, dense 504->vocab) on Jane Austen's
six novels (Debian r-cran-janeaustenr), float training then hardware-aware fine-tuning, ONNX export.

  /usr/bin/python3 tools/train/char_lstm.py --minutes 10 --hwa-minutes 4

Writes data/char-lstm.onnx, data/char-lstm-vocab.json and data/austen-heldout.txt.
Text: austen_books()$text (all six novels, package order), lines joined with "\n", lower-cased.
Vocabulary: the 49 most frequent characters (ties by code point) + id 49 = unknown (any other char).
Held-out: the last --heldout characters of the corpus (end of "Persuasion"), never trained on.
"""
import argparse
import collections
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hwa  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EMB, HID = 128, 504


def austen_text():
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "austen.txt")
        subprocess.run(["Rscript", "-e", f'library(janeaustenr); writeLines(austen_books()$text, "{p}", useBytes = TRUE)'],
                       check=True)
        with open(p, encoding="utf-8") as f:
            return f.read()


def build_vocab(text, size):
    c = collections.Counter(text)
    chars = [ch for ch, _ in sorted(c.items(), key=lambda kv: (-kv[1], ord(kv[0])))][: size - 1]
    return chars


def encode(text, chars):
    idx = {ch: i for i, ch in enumerate(chars)}
    unk = len(chars)
    return np.array([idx.get(ch, unk) for ch in text], dtype=np.int64)


class CharLSTM(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.emb = nn.Embedding(vocab, EMB)
        self.lstm = nn.LSTM(EMB, HID)
        self.dense = nn.Linear(HID, vocab)
        self.zeta = 0.0

    def forward(self, ids, state=None):
        """ids [T, N] int64 -> logits [T, N, V] (and the final (h, c) when state is given).
        Training uses `fast_forward`; evaluation uses torch's nn.LSTM (the reference semantics)."""
        if self.training:
            return self.fast_forward(ids, state)
        x = self.emb(ids)
        y, st = self.lstm(x, state) if state is not None else self.lstm(x)
        logits = self.dense(y)
        return (logits, st) if state is not None else logits

    def fast_forward(self, ids, state=None):
        """The same LSTM written with 1x1 convolutions: Debian's torch has a generic (slow,
        single-threaded) BLAS for matmul but oneDNN for convolutions (~15x faster here).
        Applies hardware-aware weight noise (zeta) to W_ih, W_hh and the dense weights."""
        T, N = ids.shape
        H = HID
        z = self.zeta
        Wih, Whh, Wd = (hwa.noisy(w, z) for w in self.weights())
        b = self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0
        x = self.emb(ids).reshape(T * N, EMB, 1, 1)
        xp = F.conv2d(x, Wih[:, :, None, None]).view(T, N, 4 * H) + b
        if state is None:
            h = torch.zeros(N, H)
            c = torch.zeros(N, H)
        else:
            h, c = state[0][0], state[1][0]
        R = Whh[:, :, None, None]
        ys = []
        for t in range(T):
            g = xp[t] + F.conv2d(h[:, :, None, None], R).view(N, 4 * H)
            i, f, gg, o = g.chunk(4, 1)  # torch gate order i, f, g, o
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
            h = torch.sigmoid(o) * torch.tanh(c)
            ys.append(h)
        y = torch.stack(ys).reshape(T * N, H, 1, 1)
        logits = (F.conv2d(y, Wd[:, :, None, None]).view(T, N, -1) + self.dense.bias)
        return (logits, (h[None], c[None])) if state is not None else logits

    def weights(self):
        return [self.lstm.weight_ih_l0, self.lstm.weight_hh_l0, self.dense.weight]


@torch.no_grad()
def bpc(model, ids, chunk=1000):
    """Bits per character over ids[1:], one sequence from a zero state (chunked, state carried)."""
    model.eval()
    x = torch.from_numpy(ids)
    state = (torch.zeros(1, 1, HID), torch.zeros(1, 1, HID))
    nll, n = 0.0, 0
    for i in range(0, len(x) - 1, chunk):
        inp = x[i:i + chunk][:len(x) - 1 - i]
        tgt = x[i + 1:i + 1 + len(inp)]
        logits, state = model(inp[:, None], state)
        nll += F.cross_entropy(logits[:, 0], tgt, reduction="sum").item()
        n += len(tgt)
    return nll / n / math.log(2)


@torch.no_grad()
def bpc_noisy(model, ids, zeta, limit=20000):
    saved = [w.clone() for w in model.weights()]
    for w in model.weights():
        w.copy_(hwa.noisy(w, zeta))
    b = bpc(model, ids[:limit])
    for w, s in zip(model.weights(), saved):
        w.copy_(s)
    return b


def train(model, data, minutes, lr, batch, seq, zeta, clip_alpha, label, heldout):
    """Stateful truncated BPTT: `batch` contiguous streams, carried state, until `minutes` pass."""
    model.zeta = zeta
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    streams = len(data) // batch
    d = torch.from_numpy(data[: streams * batch]).view(batch, streams).t().contiguous()  # [L, N]
    t0, step, pos = time.time(), 0, 0
    budget = minutes * 60
    state = None
    run_loss, run_n = 0.0, 0
    while time.time() - t0 < budget:
        if pos + seq + 1 > d.shape[0]:
            pos, state = 0, None
        # cosine decay over the time budget
        frac = min(1.0, (time.time() - t0) / budget)
        for g in opt.param_groups:
            g["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        model.train()
        inp, tgt = d[pos:pos + seq], d[pos + 1:pos + seq + 1]
        if state is None:
            state = (torch.zeros(1, batch, HID), torch.zeros(1, batch, HID))
        logits, state = model(inp, state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if clip_alpha:
            hwa.clip_weights(model.weights(), clip_alpha)
        pos += seq
        step += 1
        run_loss += loss.item()
        run_n += 1
        if step % 25 == 0:
            print(f"[{label}] step {step} chars {step * batch * seq} pass {step * batch * seq / len(data):.2f} "
                  f"train bpc {run_loss / run_n / math.log(2):.3f} lr {opt.param_groups[0]['lr']:.4f} "
                  f"elapsed {time.time() - t0:.0f}s", flush=True)
            run_loss, run_n = 0.0, 0
        if step % 200 == 0:
            print(f"[{label}] held-out bpc (first 5k chars) {bpc(model, heldout[:5000]):.3f}", flush=True)
    model.zeta = 0.0
    print(f"[{label}] done: {step} steps, {step * batch * seq} characters "
          f"({step * batch * seq / len(data):.2f} passes), {time.time() - t0:.0f}s", flush=True)
    return time.time() - t0


def export(model, path):
    """Writes the ONNX graph directly (onnx.helper) so it holds exactly these nodes, no Shape/
    ConstantOfShape plumbing for zero initial states:
      input [T, N] int64 -> Gather(embedding [V, 128], axis 0) -> [T, N, 128]
      -> LSTM(W [1, 2016, 128], R [1, 2016, 504], B [1, 4032]; hidden_size 504, gates i, o, f, c;
              no initial_h/initial_c (zeros), no sequence_lens) -> Y [T, 1, N, 504]
      -> Squeeze(axes [1]) -> [T, N, 504] -> MatMul(dense_weight_t [504, V]) -> Add(dense_bias [V])
      -> output [T, N, V] (logits; softmax over the last axis gives next-character probabilities)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    model.eval()
    H = HID
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}

    def reorder(w):  # torch gate blocks (i, f, g, o) -> ONNX (i, o, f, c)
        i, f, g, o = (w[k * H:(k + 1) * H] for k in range(4))
        return np.concatenate([i, o, f, g], 0)

    V = sd["dense.weight"].shape[0]
    inits = [
        numpy_helper.from_array(sd["emb.weight"], "embedding"),
        numpy_helper.from_array(reorder(sd["lstm.weight_ih_l0"])[None], "lstm_W"),
        numpy_helper.from_array(reorder(sd["lstm.weight_hh_l0"])[None], "lstm_R"),
        numpy_helper.from_array(np.concatenate([reorder(sd["lstm.bias_ih_l0"]),
                                                reorder(sd["lstm.bias_hh_l0"])])[None], "lstm_B"),
        numpy_helper.from_array(np.ascontiguousarray(sd["dense.weight"].T), "dense_weight_t"),
        numpy_helper.from_array(sd["dense.bias"], "dense_bias"),
        numpy_helper.from_array(np.array([1], np.int64), "squeeze_axes"),
    ]
    nodes = [
        helper.make_node("Gather", ["embedding", "input"], ["embedded"], name="embedding", axis=0),
        helper.make_node("LSTM", ["embedded", "lstm_W", "lstm_R", "lstm_B"], ["lstm_Y"], name="lstm",
                         hidden_size=H, direction="forward"),
        helper.make_node("Squeeze", ["lstm_Y", "squeeze_axes"], ["hidden"], name="squeeze"),
        helper.make_node("MatMul", ["hidden", "dense_weight_t"], ["dense_mm"], name="dense_matmul"),
        helper.make_node("Add", ["dense_mm", "dense_bias"], ["output"], name="dense_bias_add"),
    ]
    graph = helper.make_graph(
        nodes, "char_lstm",
        [helper.make_tensor_value_info("input", TensorProto.INT64, ["T", "N"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["T", "N", V])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="hermes-sim tools/train/char_lstm.py")
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    print(f"exported {path} ({os.path.getsize(path)} bytes)", flush=True)


def numpy_reference(path, ids):
    """Independent numpy evaluation of the exported graph (ONNX LSTM semantics, gate order iofc)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    onnx.checker.check_model(m)
    env = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    env["input"] = ids
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731

    def attr(node, name, default=None):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    ops = []
    for node in m.graph.node:
        ops.append(node.op_type)
        ins = [env[i] if i else None for i in node.input]
        t = node.op_type
        if t == "Constant":
            outs = [numpy_helper.to_array(attr(node, "value"))]
        elif t == "Gather":
            outs = [np.take(ins[0], ins[1], axis=attr(node, "axis", 0))]
        elif t == "LSTM":
            x, W, R = ins[0], ins[1][0], ins[2][0]
            B = ins[3][0] if len(ins) > 3 and ins[3] is not None else np.zeros(8 * R.shape[1], np.float32)
            H = R.shape[1]
            T, N = x.shape[:2]
            h = ins[5][0] if len(ins) > 5 and ins[5] is not None else np.zeros((N, H), np.float32)
            c = ins[6][0] if len(ins) > 6 and ins[6] is not None else np.zeros((N, H), np.float32)
            ys = []
            for tt in range(T):
                g = x[tt] @ W.T + h @ R.T + B[:4 * H] + B[4 * H:]
                i, o, f, cc = (g[:, k * H:(k + 1) * H] for k in range(4))  # ONNX order i, o, f, c
                c = sig(f) * c + sig(i) * np.tanh(cc)
                h = sig(o) * np.tanh(c)
                ys.append(h)
            outs = [np.stack(ys)[:, None], h[None], c[None]]
        elif t == "Squeeze":
            outs = [np.squeeze(ins[0], axis=tuple(ins[1]) if len(ins) > 1 and ins[1] is not None else None)]
        elif t == "MatMul":
            outs = [ins[0] @ ins[1]]
        elif t == "Add":
            outs = [ins[0] + ins[1]]
        elif t == "Gemm":
            a, b = ins[0], ins[1]
            b = b.T if attr(node, "transB", 0) else b
            outs = [a @ b + ins[2]]
        else:
            raise RuntimeError(f"numpy reference: unsupported op {t} ({node.name})")
        for name, v in zip(node.output, outs):
            if name:
                env[name] = v
    return env[m.graph.output[0].name], ops, m


def verify(model, path, ids):
    x = torch.from_numpy(np.stack([ids[:60], ids[100:160]], 1))  # [T=60, N=2]
    with torch.no_grad():
        model.eval()
        ref = model(x).numpy()
    try:
        import onnxruntime as ort
        got = ort.InferenceSession(path).run(None, {"input": x.numpy()})[0]
        how = "onnxruntime"
    except ImportError:
        got, ops, m = numpy_reference(path, x.numpy())
        how = "numpy re-implementation"
        print(f"ONNX nodes: {ops}; opset {[o.version for o in m.opset_import]}; initializers "
              f"{[(i.name, list(i.dims)) for i in m.graph.initializer]}", flush=True)
    err = np.abs(got - ref).max()
    print(f"verify {path}: {how} vs torch, [60, 2] ids: max |diff| {err:.2e}", flush=True)
    assert err < 1e-3 * max(1.0, np.abs(ref).max()), err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10, help="float training wall time")
    ap.add_argument("--hwa-minutes", type=float, default=4, help="hardware-aware fine-tuning wall time")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.004)
    ap.add_argument("--hwa-lr", type=float, default=0.001)
    ap.add_argument("--zeta", type=float, default=0.075)
    ap.add_argument("--clip-alpha", type=float, default=2.0)
    ap.add_argument("--vocab", type=int, default=50)
    ap.add_argument("--heldout", type=int, default=95000, help="held-out characters (end of the corpus)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--outdir", default=os.path.join(ROOT, "data"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    text = austen_text().lower()
    chars = build_vocab(text, args.vocab)
    train_text, held_text = text[:-args.heldout], text[-args.heldout:]
    tr, he = encode(train_text, chars), encode(held_text, chars)
    print(f"corpus {len(text)} chars, train {len(tr)}, held-out {len(he)}; vocab {len(chars) + 1} "
          f"(unknown in held-out: {(he == len(chars)).sum()})", flush=True)
    with open(os.path.join(args.outdir, "austen-heldout.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(held_text)
    with open(os.path.join(args.outdir, "char-lstm-vocab.json"), "w", encoding="utf-8") as f:
        json.dump({"chars": chars, "unknown": len(chars), "size": len(chars) + 1, "lowercase": True,
                   "note": "id i < unknown is chars[i]; lower-case the text first; any other character "
                           "maps to id `unknown`"}, f, ensure_ascii=False, indent=1)
        f.write("\n")

    model = CharLSTM(len(chars) + 1)
    with torch.no_grad():  # the fast training path must equal nn.LSTM
        probe = torch.from_numpy(tr[:40].reshape(20, 2))
        st = (torch.randn(1, 2, HID) * 0.1, torch.randn(1, 2, HID) * 0.1)
        model.train()
        a, (ha, ca) = model(probe, st)
        model.eval()
        b_, (hb, cb) = model(probe, st)
        err = max((a - b_).abs().max().item(), (ha - hb).abs().max().item(), (ca - cb).abs().max().item())
        print(f"fast training path vs nn.LSTM: max |diff| {err:.2e}", flush=True)
        assert err < 1e-4
    onnx_path = os.path.join(args.outdir, "char-lstm.onnx")
    T = {}
    T["float"] = train(model, tr, args.minutes, args.lr, args.batch, args.seq, 0.0, 0.0, "float", he)
    t = time.time()
    b = bpc(model, he)
    print(f"float model: held-out bpc {b:.4f} ({len(he) - 1} predictions, {time.time() - t:.0f}s); "
          f"with weight noise zeta={args.zeta} (first 20k): {bpc_noisy(model, he, args.zeta):.4f}", flush=True)
    export(model, onnx_path)
    verify(model, onnx_path, he)
    if args.hwa_minutes > 0:
        hwa.clip_weights(model.weights(), args.clip_alpha)
        T["hwa"] = train(model, tr, args.hwa_minutes, args.hwa_lr, args.batch, args.seq, args.zeta,
                         args.clip_alpha, "hwa", he)
        b = bpc(model, he)
        print(f"HWA model: float held-out bpc {b:.4f}; with weight noise zeta={args.zeta} (first 20k): "
              f"{bpc_noisy(model, he, args.zeta):.4f}", flush=True)
        export(model, onnx_path)
        verify(model, onnx_path, he)
    print(f"training time: {T}", flush=True)


if __name__ == "__main__":
    main()
