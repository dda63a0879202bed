// Loads build/hermes.wasm once per process and owns the one shared WebAssembly.Memory
// that every chip's device state lives in. Kernels are called through the raw exports
// (pointers and lengths): no per-call wrapper, no array copies. Worker threads get the
// compiled module and the memory (see `instantiateKernels`) and never allocate.

import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Arena, WASM_PAGE_BYTES } from "./arena.ts";
import type { instantiate } from "../../build/hermes.js";

/**
 * The kernel exports of build/hermes.wasm, typed from asc's generated declaration.
 * Internal: raw pointers and lengths, no argument checks; may change without notice.
 */
export type Kernels = Omit<Awaited<ReturnType<typeof instantiate>>, "memory">;

/**
 * Maximum memory declared in asconfig.json (pages). 2 GiB keeps every pointer below
 * 2^31, so raw i32 returns of `usize` are never negative on the JS side.
 */
export const MAX_PAGES = 32768;

const WASM_PATH = fileURLToPath(new URL("../../build/hermes.wasm", import.meta.url));
const WASM_DEBUG_PATH = fileURLToPath(new URL("../../build/hermes.debug.wasm", import.meta.url));

let compiled: WebAssembly.Module | undefined;

/** The wasm file this process uses. Set HERMES_WASM_DEBUG=1 for the debug build. */
export function wasmPath(): string {
  return process.env["HERMES_WASM_DEBUG"] === "1" ? WASM_DEBUG_PATH : WASM_PATH;
}

/**
 * Use `module` (compiled by the caller, e.g. fetched by the browser playground, web/) as this
 * process's kernels instead of reading build/hermes.wasm. Call before the first WasmRuntime.get().
 */
export function provideWasmModule(module: WebAssembly.Module): void {
  if (WasmRuntime.created && compiled !== module) throw new Error("provideWasmModule: the wasm runtime already exists");
  compiled = module;
}

/** Compile the module (once per process). */
export function wasmModule(): WebAssembly.Module {
  if (compiled) return compiled;
  const path = wasmPath();
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`npm install\` (or \`npm run asbuild\`) to build the wasm kernels`);
  }
  compiled = new WebAssembly.Module(readFileSync(path));
  return compiled;
}

/** Instantiate the module on an existing memory (main thread or worker). */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernels {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort(msg: number, file: number, line: number, col: number): never {
        const text = readAsString(memory, msg);
        const where = readAsString(memory, file);
        throw new Error(`wasm kernel abort: ${text} (${where}:${line}:${col})`);
      },
    },
  });
  const exp = instance.exports as unknown as Kernels & { _start?: () => void };
  exp._start?.();
  return exp;
}

/** Decode an AssemblyScript string (UTF-16, byte length stored at ptr - 4). */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return "";
  const u32 = new Uint32Array(memory.buffer);
  const bytes = u32[(ptr - 4) >>> 2]!;
  const u16 = new Uint16Array(memory.buffer, ptr, bytes >>> 1);
  let s = "";
  for (let i = 0; i < u16.length; i++) s += String.fromCharCode(u16[i]!);
  return s;
}

/** The process-wide runtime: module, shared memory, kernels and (main thread) the arena. */
export class WasmRuntime {
  /**
   * The raw kernel exports of build/hermes.wasm (pointers and lengths, no checks).
   * @internal
   */
  readonly kernels: Kernels;
  private readonly heap: Arena | undefined;

  private constructor(
    /** The compiled build/hermes.wasm, shared with the worker threads. */
    readonly module: WebAssembly.Module,
    /** The one shared memory (64 KiB pages, at most 2 GiB) that holds every chip's device state. */
    readonly memory: WebAssembly.Memory,
    owner: boolean,
  ) {
    this.kernels = instantiateKernels(module, memory);
    this.heap = owner ? new Arena(memory, this.kernels.heapBase(), MAX_PAGES) : undefined;
  }

  private static instance: WasmRuntime | undefined;

  /** Whether this thread's runtime exists already. */
  static get created(): boolean {
    return WasmRuntime.instance !== undefined;
  }

  /** The one runtime of this thread (on the main thread, created on first use). */
  static get(): WasmRuntime {
    WasmRuntime.instance ??= new WasmRuntime(
      wasmModule(),
      new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true }),
      true,
    );
    return WasmRuntime.instance;
  }

  /**
   * In a worker thread: instantiate the main thread's compiled module on its shared
   * memory. The worker's runtime cannot allocate; it works on pointers it is given.
   */
  static attach(module: WebAssembly.Module, memory: WebAssembly.Memory): WasmRuntime {
    if (WasmRuntime.instance) {
      if (WasmRuntime.instance.memory !== memory) throw new Error("WasmRuntime.attach: this thread already has a runtime on another memory");
      return WasmRuntime.instance;
    }
    WasmRuntime.instance = new WasmRuntime(module, memory, false);
    return WasmRuntime.instance;
  }

  /**
   * The arena (main thread only).
   * @throws Error on a worker thread, which does not allocate.
   * @internal
   */
  get arena(): Arena {
    if (!this.heap) throw new Error("worker threads do not allocate wasm memory: pass pointers from the main thread");
    return this.heap;
  }

  /** Whether this thread allocates wasm memory (the main thread; workers get pointers). */
  get canAllocate(): boolean {
    return this.heap !== undefined;
  }

  /**
   * Allocate a zero-filled region of the shared memory (main thread only); release it with {@link WasmRuntime.free}.
   * @param bytes - size, bytes (a positive integer)
   * @param align - alignment, bytes (a power of two up to 65536)
   * @defaultValue align: 64 (a cache line)
   * @returns the region's byte offset in {@link WasmRuntime.memory}
   * @throws RangeError on a bad `bytes` or `align`; {@link WasmMemoryExhaustedError} when the
   *   memory cannot grow to fit it; Error on a worker thread
   */
  alloc(bytes: number, align?: number): number {
    return this.arena.alloc(bytes, align);
  }

  /**
   * Release a region returned by {@link WasmRuntime.alloc} (main thread only).
   * @throws Error if `ptr` is not a live region, or on a worker thread
   */
  free(ptr: number): void {
    this.arena.free(ptr);
  }

  private readonly scratchRegions = new Map<string, { ptr: number; bytes: number }>();

  /**
   * A persistent scratch region named `key`, at least `bytes` long, reused across calls
   * (not zero-filled: kernels using it must initialise what they read). Main thread only;
   * one user at a time per key.
   */
  scratch(key: string, bytes: number): number {
    const have = this.scratchRegions.get(key);
    if (have && have.bytes >= bytes) return have.ptr;
    if (have) this.arena.free(have.ptr);
    const ptr = this.arena.alloc(bytes);
    new Uint8Array(this.memory.buffer, ptr, bytes).fill(0); // no stale bytes from a previous owner
    this.scratchRegions.set(key, { ptr, bytes });
    return ptr;
  }

  /** Current size of the memory, bytes. */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** The most the memory can grow to, bytes (32768 pages of 64 KiB = 2 GiB). */
  get maxBytes(): number {
    return MAX_PAGES * WASM_PAGE_BYTES;
  }

  // Typed views. Views are made fresh on each call: after memory.grow the old
  // SharedArrayBuffer object keeps its old length.
  /** A fresh Float32Array view of `length` elements at byte offset `ptr` (do not keep it across a memory grow). */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
  /** A fresh Float64Array view of `length` elements at byte offset `ptr` (do not keep it across a memory grow). */
  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }
  /** A fresh Int32Array view of `length` elements at byte offset `ptr` (do not keep it across a memory grow). */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }
  /** A fresh Uint32Array view of `length` elements at byte offset `ptr` (do not keep it across a memory grow). */
  u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, length);
  }
  /** A fresh Int16Array view of `length` elements at byte offset `ptr` (do not keep it across a memory grow). */
  i16(ptr: number, length: number): Int16Array {
    return new Int16Array(this.memory.buffer, ptr, length);
  }
  /** A fresh Uint16Array view of `length` elements at byte offset `ptr` (do not keep it across a memory grow). */
  u16(ptr: number, length: number): Uint16Array {
    return new Uint16Array(this.memory.buffer, ptr, length);
  }
  /** A fresh Int8Array view of `length` elements at byte offset `ptr` (do not keep it across a memory grow). */
  i8(ptr: number, length: number): Int8Array {
    return new Int8Array(this.memory.buffer, ptr, length);
  }
  /** A fresh Uint8Array view of `length` elements at byte offset `ptr` (do not keep it across a memory grow). */
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }
}

/**
 * A scratch region that is freed when the callback returns (or throws).
 * Use for kernel inputs/outputs that do not outlive one call.
 */
export function withScratch<T>(bytes: number, fn: (ptr: number, rt: WasmRuntime) => T): T {
  const rt = WasmRuntime.get();
  const ptr = rt.alloc(bytes);
  try {
    return fn(ptr, rt);
  } finally {
    rt.free(ptr);
  }
}
