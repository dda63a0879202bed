// The flags every command that runs an ONNX model over a test set takes (run --model, the
// sequence run, drift --model), as commander hands them over: strings, parsed by the command
// (parseTransformFlags in lib/network/test-set.ts for the transform).

import { ArgumentError } from "../../runtime/validate.ts";

/** `--model`, `--images`, `--labels`, `--limit` and the input transform flags. */
export interface ModelTestSetFlags {
  model?: string;
  images?: string;
  labels?: string;
  limit?: string;
  inputScale?: string;
  mean?: string;
  std?: string;
  layout?: string;
  /** `--host-activations` (commander's boolean). */
  hostActivations?: boolean;
}

/** `--host-activations`: given only with an ONNX CNN `--model` (a sequence model's LSTM gates
 * run on the GDPU already). */
export function hostActivationsFlag(opts: { model?: string; hostActivations?: boolean }, sequence: boolean): boolean {
  if (opts.hostActivations === undefined) return false;
  if (opts.model === undefined || sequence) throw new ArgumentError("--host-activations", "given only with an ONNX CNN --model", true);
  return true;
}
