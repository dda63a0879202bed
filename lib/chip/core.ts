// One in-memory compute core: a 256 × 256 crossbar of unit cells, its place on the
// 8 × 8 grid, and where its state lives in the shared wasm memory.
//
// Device state (physical fidelity): four f32 planes of 256 × 256 conductances in ADC
// counts, plane-major, row-major inside a plane:
//   plane 0 = g1+, plane 1 = g2+, plane 2 = g1−, plane 3 = g2−   (EDF 2a)
// so that G[r][c] = (g1+ + g2+) − (g1− + g2−) and a row (one ADC, one bit line) is
// contiguous for SIMD. Why f32: program-and-verify moves conductances by fractions of
// a count with accumulated noise, drift multiplies by (t/t0)^−ν, and both run in f32x4
// lanes; 24 bits of significand resolve 1e−5 of a 160-count range, far below the
// read noise. 16.7 M devices × 4 B = 64 MiB per chip.
//
// Read plane (both fidelities): the int16 fixed-point weights the MVM kernel reads,
// 256 × 256 row-major (row stride 256, a multiple of 8 so no tail handling).

import type { CoreAdcs } from "./adc.ts";
import { ARCH } from "./config.ts";
import type { WasmRuntime } from "../runtime/wasm.ts";

export const ROWS = ARCH.crossbarRows.value;
export const COLS = ARCH.crossbarCols.value;
export const CELLS = ROWS * COLS;
export const DEVICES_PER_CELL = ARCH.devicesPerCell.value;
export const DEVICE_PLANE_BYTES = CELLS * DEVICES_PER_CELL * 4;
export const READ_PLANE_BYTES = CELLS * 2;

/** Names of the four device planes, in storage order. */
export const DEVICE_NAMES = ["g1+", "g2+", "g1-", "g2-"] as const;

/** One core of a chip (`chip.core(i)`): its index and 0-based grid position and, at physical fidelity, its device planes (`devicePlane(d)`: conductances in ADC counts) and ADCs. */
export class Core {
  /** Grid row, 0-based (the paper's Core(r, c) has r = row + 1). */
  readonly row: number;
  /** Grid column, 0-based. */
  readonly col: number;

  constructor(
    /** Core index 0..63, row-major over the 8 × 8 grid. */
    readonly index: number,
    private readonly rt: WasmRuntime,
    /** Byte offset of the four device planes, or 0 at functional fidelity. */
    readonly devicesPtr: number,
    /** Byte offset of the int16 read plane. */
    readonly readPlanePtr: number,
    /** The core's 256 ADCs (mismatch and trim registers), or undefined at functional fidelity. */
    readonly adcs?: CoreAdcs,
  ) {
    this.row = Math.floor(index / ARCH.gridCols.value);
    this.col = index % ARCH.gridCols.value;
  }

  /** The paper's notation: Core(r, c), 1-based (EDF 1). */
  get label(): string {
    return `Core(${this.row + 1},${this.col + 1})`;
  }

  /** True for cores in grid rows 4 (0-based 3), the row that feeds the GDPU slices. */
  get feedsGdpu(): boolean {
    return this.row === 3;
  }

  /**
   * A view of one device plane (0 g1+, 1 g2+, 2 g1−, 3 g2−), 65,536 f32 conductances in ADC counts, row-major.
   * @throws RangeError on another `device`; Error at functional fidelity (no devices)
   */
  devicePlane(device: number): Float32Array {
    if (!this.devicesPtr) throw new Error(`${this.label}: no device planes at functional fidelity`);
    if (!Number.isInteger(device) || device < 0 || device >= DEVICES_PER_CELL) {
      throw new RangeError(`device must be an integer in 0..3, got ${device}`);
    }
    return this.rt.f32(this.devicesPtr + device * CELLS * 4, CELLS);
  }

  /** A view of the int16 read plane (256 × 256, row-major). */
  readPlane(): Int16Array {
    return this.rt.i16(this.readPlanePtr, CELLS);
  }

  /** The core's identity as plain data (index, grid position, label), for JSON output. */
  toJSON(): { index: number; row: number; col: number; label: string } {
    return { index: this.index, row: this.row, col: this.col, label: this.label };
  }
}
