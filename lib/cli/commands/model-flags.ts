// The flags every command that runs an ONNX model over a test set takes (run --model, the
// sequence run, drift --model), as commander hands them over: strings, parsed by the command
// (parseTransformFlags in lib/network/test-set.ts for the transform).

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
}
