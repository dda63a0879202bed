// Elementwise activations with no unit on this chip between layers: the LDPU has ReLU only
// (and a clip through its INT8 saturation), and the GDPU's tanh LUT serves the LSTM gates of
// the row-4 cores above it (paper, Methods). With the opt-in `hostActivations` the host
// applies them between layers, off-chip, as the paper's host does the max-pool: the
// producer's INT8 output leaves the chip, the host maps each INT8 value through a table and
// sends INT8 back. An elementwise function of an INT8 value has 256 possible inputs, so the
// host's work is exactly one 256-entry table per channel (one table unless PRelu has a slope
// per channel): y = sat(round(sOut · f(q / sIn))), rounded as the host affine step rounds
// (half up). Not priced by the cost model, like the other host ops.

import type { ActivationFn, ActivationNode } from "./graph.ts";

/** ONNX op → function, for the ops the front end lowers (Sigmoid + Mul(x, ·) is `silu`,
 * HardSigmoid + Mul(x, ·) is `hardSwish`: lib/network/onnx-lower.ts). */
export const ONNX_ACTIVATIONS: Readonly<Record<string, ActivationFn>> = {
  LeakyRelu: "leakyRelu", PRelu: "prelu", HardSigmoid: "hardSigmoid", HardSwish: "hardSwish", Sigmoid: "sigmoid", Tanh: "tanh",
  Elu: "elu", Selu: "selu", Celu: "celu", Gelu: "gelu", Softplus: "softplus", Softsign: "softsign", Mish: "mish", ThresholdedRelu: "thresholdedRelu",
};

/** ONNX's defaults of each function's attributes. */
export const ACTIVATION_DEFAULTS: Readonly<Partial<Record<ActivationFn, { alpha?: number; beta?: number; gamma?: number }>>> = {
  leakyRelu: { alpha: 0.01 },
  hardSigmoid: { alpha: 0.2, beta: 0.5 },
  hardSwish: { alpha: 1 / 6, beta: 0.5 },
  elu: { alpha: 1 },
  selu: { alpha: 1.67326319217681884765625, gamma: 1.05070102214813232421875 },
  celu: { alpha: 1 },
  thresholdedRelu: { alpha: 1 },
};

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const softplus = (x: number): number => (x > 30 ? x : Math.log1p(Math.exp(x)));

/** erf to |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), for the exact GELU. */
function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
    t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

/** f(x) of `n` on channel `c` (the float64 reference; the chip path tabulates it). */
export function activationValue(n: ActivationNode, x: number, c: number): number {
  const d = ACTIVATION_DEFAULTS[n.fn] ?? {};
  const alpha = n.alpha ?? d.alpha ?? 0;
  switch (n.fn) {
    case "leakyRelu":
      return x >= 0 ? x : alpha * x;
    case "prelu": {
      const s = n.slope!;
      return x >= 0 ? x : s[s.length === 1 ? 0 : c]! * x;
    }
    case "hardSigmoid":
      return Math.max(0, Math.min(1, alpha * x + (n.beta ?? d.beta!)));
    case "hardSwish":
      return x * Math.max(0, Math.min(1, alpha * x + (n.beta ?? d.beta!)));
    case "sigmoid":
      return sigmoid(x);
    case "silu":
      return x * sigmoid(x);
    case "tanh":
      return Math.tanh(x);
    case "elu":
      return x >= 0 ? x : alpha * Math.expm1(x);
    case "selu":
      return (n.gamma ?? d.gamma!) * (x > 0 ? x : alpha * Math.expm1(x));
    case "celu":
      return Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha));
    case "gelu":
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case "geluTanh":
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case "softplus":
      return softplus(x);
    case "softsign":
      return x / (1 + Math.abs(x));
    case "mish":
      return x * Math.tanh(softplus(x));
    case "thresholdedRelu":
      return x > alpha ? x : 0;
  }
}

/** Channels with their own table: PRelu's per-channel slopes, else 1. */
export const activationTables = (n: ActivationNode): number => (n.fn === "prelu" && n.slope!.length > 1 ? n.slope!.length : 1);

/** The host's tables: `activationTables(n)` × 256 INT8 outputs, entry (c, q + 128) =
 * sat(round(sOut · f(q / sIn))) for q in −128..127 (INT8 per unit: sIn, sOut). */
export function activationTable(n: ActivationNode, sIn: number, sOut: number): Int8Array {
  const k = activationTables(n);
  const t = new Int8Array(k * 256);
  for (let c = 0; c < k; c++) {
    for (let q = -128; q < 128; q++) {
      const y = sOut * activationValue(n, q / sIn, c);
      t[c * 256 + q + 128] = Math.max(-128, Math.min(127, Math.round(y)));
    }
  }
  return t;
}
