// chip.at(t).mvm's `rows` option: reading fewer rows gives the same values on those rows
// (noise is keyed per row), zeros elsewhere, at both fidelities and on the parallel path;
// bad values are one clear error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { characterisationWeights, sparseUniform } from "../../../lib/chip/workload.ts";

const W = characterisationWeights(4n, 0);
const X = Int8Array.from(sparseUniform(4n, 0, 7, 300 * 256), (v) => Math.round(127 * v));

for (const fidelity of ["physical", "functional"] as const) {
  test(`${fidelity}: rows = 100 reads the same first 100 rows and zeros after them`, async () => {
    const chip = Chip.create({ seed: 4n, fidelity });
    try {
      chip.program(0, W, { scheme: "tdp" });
      const at = chip.at(3600);
      const rx = Int8Array.from(X, (v) => v >> 2);
      const full = at.mvm(0, X, { rx, ldpu: { bias: 3, flags: 2 } });
      const part = at.mvm(0, X, { rx, ldpu: { bias: 3, flags: 2 }, rows: 100 });
      const par = await at.mvmParallel(0, X, { rx, ldpu: { bias: 3, flags: 2 }, rows: 100, threads: 2 });
      let nonzero = 0;
      for (let b = 0; b < 300; b++) {
        for (let r = 0; r < 256; r++) {
          const i = b * 256 + r;
          if (r < 100) {
            assert.is(part.y[i], full.y[i], `input ${b} row ${r}`);
            if (full.y[i] !== 0) nonzero++;
          } else assert.is(part.y[i], 0, `input ${b} row ${r} not read`);
        }
      }
      assert.ok(nonzero > 1000, `outputs are not all zero (${nonzero})`);
      assert.equal(Array.from(par.y), Array.from(part.y), "parallel = inline");
      if (fidelity === "physical") {
        const c = at.mvm(0, X, { rows: 37, counts: true }).counts!;
        const cf = at.mvm(0, X, { counts: true }).counts!;
        for (let b = 0; b < 300; b++) {
          assert.equal(Array.from(c.subarray(b * 512, b * 512 + 74)), Array.from(cf.subarray(b * 512, b * 512 + 74)));
          assert.ok(c.subarray(b * 512 + 74, (b + 1) * 512).every((v) => v === 0));
        }
      }
      for (const bad of [0, 257, 1.5, NaN]) assert.throws(() => at.mvm(0, X, { rows: bad }), /rows.*1\.\.256/);
    } finally {
      chip.dispose();
    }
  });
}

test.run();
