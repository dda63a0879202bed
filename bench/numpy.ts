// numpy's float32 matrix product on one BLAS thread, the same-run reference for GMAC/s.
import { spawnSync } from "node:child_process";

/** GMAC/s of W (n × n) @ X (n × batch) in float32 on one thread; null without python3/numpy. */
export function numpyGmacs(n: number, batch: number, quick = false): number | null {
  const py = `
import time, numpy as np
W = np.random.rand(${n}, ${n}).astype(np.float32); X = np.random.rand(${n}, ${batch}).astype(np.float32)
for _ in range(20): W @ X
best = 1e9
for _ in range(${quick ? 5 : 20}):
    t = time.perf_counter(); k = 0
    while k < 50: W @ X; k += 1
    best = min(best, (time.perf_counter() - t) / k)
print(${n} * ${n} * ${batch} / best / 1e9)`;
  const env = { ...process.env, OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const r = spawnSync("python3", ["-c", py], { encoding: "utf8", env });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}
