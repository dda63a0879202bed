// The chip: 64 cores on an 8 × 8 grid, their state in the process's shared wasm memory.

import { ARCH, FIDELITIES, type Fidelity } from "./config.ts";
import { Core, DEVICE_PLANE_BYTES, READ_PLANE_BYTES } from "./core.ts";
import { intInRange, knownKeys, oneOf, seedToBigInt } from "./validate.ts";
import { WasmRuntime } from "./wasm.ts";

export interface ChipOptions {
  /** Seed of every random draw of this chip (device statistics, noise). Default 1. */
  seed?: number | bigint;
  /** 'physical' (devices, program-and-verify, ADC curves) or 'functional' (the paper's
   * Methods model). Default 'physical'. */
  fidelity?: Fidelity;
}

const OPTION_KEYS = ["seed", "fidelity"] as const;
export const DEFAULT_SEED = 1;

export class Chip {
  readonly seed: bigint;
  readonly fidelity: Fidelity;
  readonly cores: readonly Core[];
  private readonly rt: WasmRuntime;
  private readonly regionPtr: number;
  private isDisposed = false;

  private constructor(options: ChipOptions) {
    this.seed = seedToBigInt(options.seed ?? DEFAULT_SEED, "seed");
    this.fidelity = oneOf(options.fidelity ?? "physical", FIDELITIES, "fidelity");
    this.rt = WasmRuntime.get();
    const n = ARCH.cores.value;
    const devBytes = this.fidelity === "physical" ? DEVICE_PLANE_BYTES : 0;
    const perCore = devBytes + READ_PLANE_BYTES;
    this.regionPtr = this.rt.alloc(perCore * n);
    const cores: Core[] = [];
    for (let i = 0; i < n; i++) {
      const base = this.regionPtr + i * perCore;
      cores.push(new Core(i, this.rt, devBytes ? base : 0, base + devBytes));
    }
    this.cores = cores;
  }

  /** Create a chip. Throws on unknown options or bad values, naming the option. */
  static create(options: ChipOptions = {}): Chip {
    if (options === null || typeof options !== "object") {
      throw new TypeError(`Chip.create options must be an object, got ${String(options)}`);
    }
    knownKeys(options, OPTION_KEYS, "Chip.create options");
    return new Chip(options);
  }

  /** Core by index 0..63 (row-major over the 8 × 8 grid). */
  core(index: number): Core {
    this.assertLive();
    return this.cores[intInRange(index, 0, this.cores.length - 1, "core index")]!;
  }

  /** Core by 0-based grid position. */
  coreAt(row: number, col: number): Core {
    intInRange(row, 0, ARCH.gridRows.value - 1, "row");
    intInRange(col, 0, ARCH.gridCols.value - 1, "col");
    return this.core(row * ARCH.gridCols.value + col);
  }

  /** Bytes of wasm memory this chip holds. */
  get bytes(): number {
    const devBytes = this.fidelity === "physical" ? DEVICE_PLANE_BYTES : 0;
    return (devBytes + READ_PLANE_BYTES) * this.cores.length;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Release the chip's memory. Using it afterwards throws. Idempotent. */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.rt.free(this.regionPtr);
  }

  private assertLive(): void {
    if (this.isDisposed) throw new Error("this chip has been disposed");
  }
}
