// The Fig. 2a measurement of one core: every unit cell RESET (all four devices), read;
// then SET with device g1+ SET and the others RESET, read. A unit-cell read is the
// difference of the two polarities' currents: (g1+ + g2+) − (g1− + g2−), each side read
// with verify-read noise and rounded to counts. It does not change the core's state.
//
// Randomness: step 201 (SET noise, read noises) of the programming stream, so it never
// shares draws with programming itself.

import { normals4, z0, z1, z2, z3 } from "./philox";
import { PURPOSE_PROGRAM, cellProps, loadProps, resetPulse, seedHi, seedLo, setPulse, stream, verifyRead } from "./pcm";

const CELLS: i32 = 65536;

/** Fill outReset and outSet (f32[65536] each) with the measured unit-cell conductances.
 * `slot` is SLOT_BYTES of caller-owned scratch. */
export function measureSetReset(p: usize, outReset: usize, outSet: usize, slot: usize): void {
  const k0 = seedLo(p), k1 = seedHi(p);
  const s = stream(p, PURPOSE_PROGRAM);
  for (let cell = 0; cell < CELLS; cell++) {
    cellProps(p, cell, slot);
    loadProps(slot, 1);
    const b = resetPulse(p);
    loadProps(slot, 2);
    const c = resetPulse(p);
    loadProps(slot, 3);
    const d = resetPulse(p);
    loadProps(slot, 0);
    const a = resetPulse(p);
    normals4(<u32>cell, 201, s, 0, k0, k1);
    const neg = verifyRead(p, c + d, z1);
    store<f32>(outReset + (<usize>cell << 2), <f32>(verifyRead(p, a + b, z0) - neg));
    const g = setPulse(p, z2); // device g1+ (its properties are loaded)
    store<f32>(outSet + (<usize>cell << 2), <f32>(verifyRead(p, g + b, z3) - neg));
  }
}
