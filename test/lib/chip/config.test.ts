import { test } from "uvu";
import * as assert from "uvu/assert";
import { ARCH, CONFIG_GROUPS, PROGRAMMING } from "../../../lib/chip/config.ts";

test("every parameter has a value, a unit and a source", () => {
  let n = 0;
  for (const group of Object.values(CONFIG_GROUPS)) {
    for (const [name, param] of Object.entries(group)) {
      assert.ok(param.source.length > 8, `${name} has a source`);
      assert.ok(param.unit.length > 0, `${name} has a unit`);
      assert.ok(param.value !== undefined, `${name} has a value`);
      n++;
    }
  }
  assert.ok(n > 40);
});

test("architecture figures are consistent with each other (EDT I)", () => {
  assert.is(ARCH.gridRows.value * ARCH.gridCols.value, ARCH.cores.value);
  assert.is(ARCH.cores.value * ARCH.crossbarRows.value * ARCH.crossbarCols.value, ARCH.weightsPerChip.value);
  assert.is(ARCH.weightsPerChip.value * ARCH.devicesPerCell.value, 16_777_216);
  assert.is(ARCH.linkChannels.value * ARCH.digitalClockHz.value, ARCH.linkDataRateBps.value);
  assert.is(ARCH.writeHeadsPerCore.value * ARCH.slsPerWriteHead.value, ARCH.crossbarCols.value);
  assert.is(2 ** ARCH.inputBits.value * ARCH.pwmLsbNs.value, 256);
  assert.is(PROGRAMMING.gmaxTdp.value, 2 * PROGRAMMING.gmaxOdp.value);
  assert.is(ARCH.gdpuInputsPerSlice.value, 4 * ARCH.gdpuCellStates.value);
});

test.run();
