// The network IR (lib/network/graph.ts) written as an ONNX model (opset 13), so the same network
// can run on onnxruntime: the float reference and speed baseline for networks built here
// (e.g. the random-weight ResNet-9). Batch norm becomes BatchNormalization with mean 0,
// var 1 − ε-compensated so that scale·x + shift is reproduced exactly in float32. The batch
// axis is free ("N") unless `batch` fixes it (e.g. 1, as some exporters and the ONNX model
// zoo write models).

import onnxProto from "onnx-proto";
import { convGroups, INPUT, poolPads, type Network } from "./graph.ts";
import { inferShapes } from "./graph-shapes.ts";
import { ArgumentError } from "../runtime/validate.ts";

const { onnx } = onnxProto;

const f32 = (name: string, dims: number[], data: ArrayLike<number>) => ({
  name, dims, dataType: 1, rawData: new Uint8Array(Float32Array.from(data as ArrayLike<number>).buffer),
});
const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const float = (name: string, v: number) => ({ name, type: 1, f: v });

/** Options of `exportOnnx`. */
export interface ExportOptions {
  /** A fixed batch size (default: a free batch axis "N"). */
  batch?: number;
}

/**
 * Write a network as an ONNX model (opset 13), so it runs on onnxruntime: the bytes of a
 * .onnx file whose input "input" is [batch, ...inputShape], batch free ("N") unless `options.batch` fixes it.
 * @throws {@link ArgumentError} when the network is inconsistent or `batch` is not a positive integer
 */
export function exportOnnx(net: Network, options: ExportOptions = {}): Uint8Array {
  const shapes = inferShapes(net);
  const batch = options.batch;
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1)) throw new ArgumentError("batch", "a positive integer (a fixed batch size)", batch);
  const nodes: object[] = [];
  const inits: object[] = [];
  const tensor = (name: string) => (name === INPUT ? "input" : name);
  for (const n of net.nodes) {
    const out = tensor(n.name);
    switch (n.op) {
      case "conv2d":
        inits.push(f32(`${n.name}.w`, [n.outChannels, n.inChannels / convGroups(n), n.kernel, n.kernel], n.weights));
        if (n.bias) inits.push(f32(`${n.name}.b`, [n.outChannels], n.bias));
        nodes.push({
          opType: "Conv", name: n.name, input: [tensor(n.input), `${n.name}.w`, ...(n.bias ? [`${n.name}.b`] : [])], output: [out],
          attribute: [
            ints("kernel_shape", [n.kernel, n.kernel]), ints("strides", [n.stride, n.stride]), ints("pads", [n.padding, n.padding, n.padding, n.padding]),
            { name: "group", type: 2, i: convGroups(n) },
          ],
        });
        break;
      case "dense":
        inits.push(f32(`${n.name}.w`, [n.outFeatures, n.inFeatures], n.weights));
        inits.push(f32(`${n.name}.b`, [n.outFeatures], n.bias ?? new Float32Array(n.outFeatures)));
        nodes.push({ opType: "Gemm", name: n.name, input: [tensor(n.input), `${n.name}.w`, `${n.name}.b`], output: [out], attribute: [{ name: "transB", type: 2, i: 1 }] });
        break;
      case "batchNorm": {
        const c = n.scale.length;
        // y = scale·(x − 0)/√(1 + ε − ε) + shift with ε tiny: exactly scale·x + shift.
        inits.push(f32(`${n.name}.s`, [c], n.scale), f32(`${n.name}.b`, [c], n.shift), f32(`${n.name}.m`, [c], new Float32Array(c)), f32(`${n.name}.v`, [c], new Float32Array(c).fill(1)));
        nodes.push({ opType: "BatchNormalization", name: n.name, input: [tensor(n.input), `${n.name}.s`, `${n.name}.b`, `${n.name}.m`, `${n.name}.v`], output: [out], attribute: [float("epsilon", 0)] });
        break;
      }
      case "relu":
        if (n.max === undefined) nodes.push({ opType: "Relu", name: n.name, input: [tensor(n.input)], output: [out] });
        else {
          inits.push(f32(`${n.name}.lo`, [], [0]), f32(`${n.name}.hi`, [], [n.max]));
          nodes.push({ opType: "Clip", name: n.name, input: [tensor(n.input), `${n.name}.lo`, `${n.name}.hi`], output: [out] });
        }
        break;
      case "add":
        nodes.push({ opType: "Add", name: n.name, input: n.inputs.map(tensor), output: [out] });
        break;
      case "maxPool":
      case "avgPool": {
        const [t, l, b, r] = poolPads(n);
        const attribute = [
          ints("kernel_shape", [n.kernel, n.kernel]), ints("strides", [n.stride, n.stride]), ints("pads", [t, l, b, r]), { name: "ceil_mode", type: 2, i: n.ceilMode ? 1 : 0 },
          ...(n.op === "avgPool" ? [{ name: "count_include_pad", type: 2, i: n.countIncludePad ? 1 : 0 }] : []),
        ];
        nodes.push({ opType: n.op === "maxPool" ? "MaxPool" : "AveragePool", name: n.name, input: [tensor(n.input)], output: [out], attribute });
        break;
      }
      case "pad": {
        const [t, l, b, r] = n.pads;
        inits.push({ name: `${n.name}.pads`, dims: [8], dataType: 7, rawData: new Uint8Array(BigInt64Array.from([0, 0, t, l, 0, 0, b, r].map(BigInt)).buffer) });
        nodes.push({ opType: "Pad", name: n.name, input: [tensor(n.input), `${n.name}.pads`], output: [out] });
        break;
      }
      case "concat":
        nodes.push({ opType: "Concat", name: n.name, input: n.inputs.map(tensor), output: [out], attribute: [{ name: "axis", type: 2, i: 1 }] });
        break;
      case "flatten":
        nodes.push({ opType: "Flatten", name: n.name, input: [tensor(n.input)], output: [out], attribute: [{ name: "axis", type: 2, i: 1 }] });
        break;
      case "activation":
        throw new ArgumentError(`${n.name}.op`, "an op exportOnnx writes (host activations come from an ONNX model already: run that file on onnxruntime)", n.op);
    }
  }
  const last = net.nodes[net.nodes.length - 1]!;
  const dims = (s: readonly number[]) => ({ dim: [batch === undefined ? { dimParam: "N" } : { dimValue: batch }, ...s.map((d) => ({ dimValue: d }))] });
  const model = {
    irVersion: 7,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "hermes-sim",
    graph: {
      name: net.name,
      node: nodes,
      initializer: inits,
      input: [{ name: "input", type: { tensorType: { elemType: 1, shape: dims(net.inputShape) } } }],
      output: [{ name: tensor(last.name), type: { tensorType: { elemType: 1, shape: dims(shapes.get(last.name)!) } } }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model as never)).finish();
}
