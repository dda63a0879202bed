// The functional readout with per-row LDPU parameters in f64x2 (assembly/readout.ts
// functionalReadoutRows, used by networks at functional fidelity) against the scalar
// functionalReadout it replaces, bit for bit: random dots, per-row gain/affine, both ReLUs,
// both INT8 link inputs, odd row counts and the 256-byte output stride.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { READOUT_BYTES } from "../../../lib/chip/readout.ts";
import { WasmRuntime } from "../../../lib/runtime/wasm.ts";

let seed = 5;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const rt = WasmRuntime.get();
const k = rt.kernels;

test("functionalReadoutRows = functionalReadout row by row (rows 1, 10, 111, 256; flags 0..7; rx, residual)", () => {
  const batch = 37;
  const dots = rt.alloc(batch * 256 * 4);
  const params = rt.alloc(256 * 16);
  const rx = rt.alloc(batch * 256);
  const res = rt.alloc(batch * 256);
  const ref = rt.alloc(batch * 256);
  const out = rt.alloc(batch * 256);
  const cache = rt.alloc(READOUT_BYTES.rowCache);
  const u = rt.u16(params, 256 * 8);
  for (let r = 0; r < 256; r++) {
    u[r * 8] = k.f64ToF16(0.02 + 0.3 * rnd());
    u[r * 8 + 1] = 0;
    u[r * 8 + 2] = k.f64ToF16(r % 9 === 0 ? 1 : (rnd() - 0.3) * 3);
    u[r * 8 + 3] = k.f64ToF16(r % 9 === 0 ? 0 : (rnd() - 0.5) * 20);
    u[r * 8 + 4] = k.f64ToF16(0.5 + rnd());
    u[r * 8 + 5] = k.f64ToF16(0.5 + rnd());
  }
  const rxv = rt.i8(rx, batch * 256);
  const resv = rt.i8(res, batch * 256);
  for (let i = 0; i < rxv.length; i++) {
    rxv[i] = rnd() < 0.3 ? 0 : Math.floor(256 * rnd()) - 128;
    resv[i] = rnd() < 0.3 ? 0 : Math.floor(256 * rnd()) - 128;
  }
  let compared = 0;
  let nonzero = 0;
  for (const rows of [1, 10, 111, 256]) {
    const d = rt.i32(dots, batch * rows);
    for (let i = 0; i < d.length; i++) d[i] = Math.floor((rnd() - 0.5) * 2e6);
    for (const flags of [0, 1, 2, 3, 4, 6]) {
      for (const [x, q] of [[0, 0], [rx, 0], [rx, res]] as const) {
        const cpu = 3e-3 * (0.5 + rnd());
        // The reference: functionalReadout writes batch × rows (its stride is rows), with link inputs at the same stride.
        const rxr = x ? rt.alloc(batch * rows) : 0;
        const resr = q ? rt.alloc(batch * rows) : 0;
        for (let b = 0; b < batch; b++) {
          if (rxr) rt.i8(rxr + b * rows, rows).set(rxv.subarray(b * 256, b * 256 + rows));
          if (resr) rt.i8(resr + b * rows, rows).set(resv.subarray(b * 256, b * 256 + rows));
        }
        k.functionalReadout(dots, rows, batch, cpu, params, flags, ref, rxr, resr);
        rt.i8(out, batch * 256).fill(99);
        k.functionalReadoutRows(dots, rows, batch, cpu, params, flags, out, x, q, 256, cache);
        const a = rt.i8(ref, batch * rows);
        const o = rt.i8(out, batch * 256);
        for (let b = 0; b < batch; b++) {
          for (let r = 0; r < 256; r++) {
            if (r < rows) {
              assert.is(o[b * 256 + r], a[b * rows + r], `rows ${rows} flags ${flags} rx ${!!x} res ${!!q}: input ${b} row ${r}`);
              compared++;
              if (a[b * rows + r] !== 0) nonzero++;
            } else assert.is(o[b * 256 + r], 0, `row ${r} beyond ${rows} is 0`);
          }
        }
        if (rxr) rt.free(rxr);
        if (resr) rt.free(resr);
      }
    }
  }
  assert.ok(nonzero > compared / 4, `outputs carry signal (${nonzero} of ${compared} non-zero)`);
  for (const p of [dots, params, rx, res, ref, out, cache]) rt.free(p);
});

test.run();
