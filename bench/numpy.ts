// numpy's float32 matrix product on one BLAS thread, the same-run reference for GMAC/s.
// Its speed depends on the BLAS kernels OpenBLAS picks for this CPU (SkylakeX on an
// AVX-512 machine, Haswell where OPENBLAS_CORETYPE=Haswell or the CPU has no AVX-512),
// so the core OpenBLAS reports is returned beside the figure: a ratio to numpy is only
// comparable with one measured against the same core.
import { spawnSync } from "node:child_process";

export interface NumpyReference {
  /** Best-of-runs GMAC/s of W (n × n) @ X (n × batch), float32, one thread. */
  gmacs: number;
  /** OpenBLAS's core name (e.g. "SkylakeX", "Haswell"), or "unknown" for another BLAS. */
  blasCore: string;
}

/** numpy's reference on this machine; null without python3/numpy. */
export function numpyReference(n: number, batch: number, quick = false): NumpyReference | null {
  const py = `
import time, glob, os, ctypes, numpy as np
W = np.random.rand(${n}, ${n}).astype(np.float32); X = np.random.rand(${n}, ${batch}).astype(np.float32)
for _ in range(20): W @ X
best = 1e9
for _ in range(${quick ? 5 : 20}):
    t = time.perf_counter(); k = 0
    while k < 50: W @ X; k += 1
    best = min(best, (time.perf_counter() - t) / k)
core = os.environ.get("OPENBLAS_CORETYPE") or "unknown"
libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*")) + glob.glob(os.path.join(os.path.dirname(np.__file__), "core", "*openblas*"))
for lib in libs:
    try:
        d = ctypes.CDLL(lib)
    except OSError:
        continue
    for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_", "openblas_get_corename"):
        f = getattr(d, name, None)
        if f is not None:
            f.restype = ctypes.c_char_p; core = f().decode(); break
print(${n} * ${n} * ${batch} / best / 1e9, core)`;
  const env = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const r = spawnSync("python3", ["-c", py], { encoding: "utf8", env });
  if (r.status !== 0) return null;
  const [g, core] = r.stdout.trim().split(/\s+/);
  return { gmacs: Number(g), blasCore: core ?? "unknown" };
}
