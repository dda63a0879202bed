// onnxruntime for the float reference and the ONNX front end: onnxruntime-node when it is
// installed (native, ~6× faster; an optional peer dependency of the package), else
// onnxruntime-web (WebAssembly, no install script; a dependency, so always there). Both
// expose the same InferenceSession / Tensor API. One clear error when neither can be loaded.

/** The part of the onnxruntime API hermes-sim uses. */
export interface Ort {
  InferenceSession: {
    create(model: Uint8Array | string, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: string, data: ArrayLike<number> | ArrayLike<bigint> | Float32Array | BigInt64Array, dims: readonly number[]) => OrtTensor;
}
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number> | ArrayLike<bigint>;
}
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}

/** Neither onnxruntime-node nor onnxruntime-web could be loaded (or the one forced by HERMES_ORT). */
export class OrtMissingError extends Error {
  /** Always "OrtMissingError". */
  override name = "OrtMissingError";
}

let cached: Promise<{ ort: Ort; backend: string }> | undefined;

async function tryImport(name: string): Promise<Ort | undefined> {
  try {
    const mod = (await import(name)) as { default?: Ort } & Ort;
    const ort = (mod.InferenceSession ? mod : mod.default) as Ort | undefined;
    return ort?.InferenceSession ? ort : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Use `ort` (an already loaded onnxruntime, e.g. onnxruntime-web's browser build in the
 * playground, web/) from now on instead of importing one; `backend` names it in messages.
 */
export function provideOrt(ort: Ort, backend: string): void {
  cached = Promise.resolve({ ort, backend });
}

/**
 * The onnxruntime to use: `HERMES_ORT=node|web` forces one; by default onnxruntime-node,
 * else onnxruntime-web. Throws OrtMissingError naming both packages when neither loads.
 */
export function loadOrt(): Promise<{ ort: Ort; backend: string }> {
  cached ??= (async () => {
    const want = process.env["HERMES_ORT"];
    const order = want === "web" ? ["onnxruntime-web"] : want === "node" ? ["onnxruntime-node"] : ["onnxruntime-node", "onnxruntime-web"];
    for (const name of order) {
      const ort = await tryImport(name);
      if (ort) {
        if (name === "onnxruntime-web") configureWeb(ort);
        return { ort, backend: name };
      }
    }
    throw new OrtMissingError(
      `onnxruntime is needed for ONNX models (the front end and the float reference) and none could be loaded: ` +
        `install onnxruntime-web (a dependency of hermes-sim, no install script) or, for the faster native runtime, ` +
        `onnxruntime-node (\`ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node\`: the CPU runtime is in the package; ` +
        `skip stops its install script from downloading the CUDA providers)`,
    );
  })();
  return cached;
}

function configureWeb(ort: Ort): void {
  const env = (ort as unknown as { env?: { wasm?: { numThreads?: number } } }).env;
  // One wasm thread: the float reference is not the hot path, and Node's worker-backed
  // wasm threads keep the process alive.
  if (env?.wasm) env.wasm.numThreads = 1;
}
