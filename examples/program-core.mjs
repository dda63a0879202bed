// Program one core of a simulated HERMES chip and read it back: MVMs 25 s and one month
// after programming, against the exact product W·x.
//   node examples/program-core.mjs [seed]
import { Chip } from "hermes-sim";

const seed = BigInt(process.argv[2] ?? 1);
let state = 7; // mulberry32: a small seeded generator, uniform in [−1, 1)
const rnd = () => {
  state = (state + 0x6d2b79f5) | 0;
  let z = Math.imul(state ^ (state >>> 15), 1 | state);
  z ^= z + Math.imul(z ^ (z >>> 7), 61 | z);
  return ((z ^ (z >>> 14)) >>> 0) / 2 ** 31 - 1;
};
const chip = Chip.create({ seed }); // 64 cores, physical fidelity (devices, program-and-verify, ADCs)
try {
  // A 256 × 256 weight matrix, uniform in [−1, 1) (row-major; any scale: Wmax defaults to
  // the largest |w|).
  const W = Float32Array.from({ length: 256 * 256 }, rnd);
  const p = chip.program(0, W, { scheme: "tdp" });
  console.log(`core 0 programmed (TDP): Gmax ${p.gmax.toFixed(1)} counts, ${(100 * p.converged).toFixed(1)} % converged in ${p.iterationsMean.toFixed(1)} pulses on average`);

  // 16 INT8 input vectors (batch × 256, values −128..127).
  const batch = 16;
  const x = Int8Array.from({ length: batch * 256 }, (_, i) => Math.round(127 * rnd()));
  for (const t of [25, 30 * 86400]) {
    const view = chip.at(t); // the chip read t seconds after programming: drift, noise, compensation
    const { y, outputScale, alpha } = view.mvm(0, x); // INT8 outputs, batch × 256; y ≈ outputScale · W·x
    view.dispose();
    let num = 0, den = 0;
    for (let b = 0; b < batch; b++) {
      for (let r = 0; r < 256; r++) {
        let s = 0;
        for (let j = 0; j < 256; j++) s += W[r * 256 + j] * x[b * 256 + j];
        num += (y[b * 256 + r] / outputScale - s) ** 2;
        den += s * s;
      }
    }
    console.log(`t = ${t} s: y[0..7] = [${Array.from(y.subarray(0, 8)).join(", ")}], drift factor α ${alpha.toFixed(3)}, error ‖ŷ − W·x‖/‖W·x‖ = ${(100 * Math.sqrt(num / den)).toFixed(2)} %`);
  }
} finally {
  chip.dispose();
}
