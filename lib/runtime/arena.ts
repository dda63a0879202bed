// A small first-fit allocator of aligned regions inside the shared wasm memory.
// It lives on the main thread only: workers receive pointers, never allocate.
// Freed regions are coalesced with their neighbours; the memory grows by whole
// 64 KiB pages on demand up to the module's declared maximum.

export const WASM_PAGE_BYTES = 65536;
export const DEFAULT_ALIGN = 64; // a cache line; also satisfies v128 (16 B) loads

/** The shared wasm memory cannot grow to what was asked (2 GiB at most, shared by every chip of the process): dispose() chips no longer needed. */
export class WasmMemoryExhaustedError extends Error {
  /**
   * @param requested - bytes asked for
   * @param free - bytes the memory could still provide
   * @param maximum - the memory's maximum, bytes
   */
  constructor(requested: number, free: number, maximum: number) {
    const mib = (b: number) => (b / 1048576).toFixed(1);
    super(
      `wasm memory exhausted: requested ${mib(requested)} MiB but only ${mib(free)} MiB ` +
        `can be had of the ${mib(maximum)} MiB maximum; dispose() chips you no longer need`,
    );
    this.name = "WasmMemoryExhaustedError";
  }
}

interface Block {
  ptr: number;
  bytes: number;
}

/**
 * The first-fit allocator of the shared wasm memory (main thread only). Internal: reached
 * through {@link WasmRuntime.alloc} and {@link WasmRuntime.free}; may change without notice.
 */
export class Arena {
  private readonly freeList: Block[] = [];
  private readonly live = new Map<number, number>(); // ptr -> bytes
  private top: number;

  /**
   * @param memory - the (shared) wasm memory
   * @param base - first byte the arena may use (the module's __heap_base)
   * @param maxPages - the memory's declared maximum, in 64 KiB pages
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    private readonly maxPages: number,
  ) {
    this.top = alignUp(base, DEFAULT_ALIGN);
  }

  /** Bytes currently handed out. */
  get usedBytes(): number {
    let s = 0;
    for (const b of this.live.values()) s += b;
    return s;
  }

  /** Allocate `bytes` (rounded up to the alignment), zero-filled. Returns the pointer. */
  alloc(bytes: number, align = DEFAULT_ALIGN): number {
    if (!Number.isInteger(bytes) || bytes <= 0) {
      throw new RangeError(`alloc: bytes must be a positive integer, got ${bytes}`);
    }
    if (!Number.isInteger(align) || align < 1 || (align & (align - 1)) !== 0 || align > WASM_PAGE_BYTES) {
      throw new RangeError(`alloc: align must be a power of two up to 65536, got ${align}`);
    }
    const size = alignUp(bytes, DEFAULT_ALIGN);
    for (let i = 0; i < this.freeList.length; i++) {
      const b = this.freeList[i]!;
      const start = alignUp(b.ptr, align);
      const pad = start - b.ptr;
      if (b.bytes >= pad + size) {
        this.freeList.splice(i, 1);
        if (pad > 0) this.insertFree({ ptr: b.ptr, bytes: pad });
        const rest = b.bytes - pad - size;
        if (rest > 0) this.insertFree({ ptr: start + size, bytes: rest });
        new Uint8Array(this.memory.buffer, start, size).fill(0);
        this.live.set(start, size);
        return start;
      }
    }
    const start = alignUp(this.top, align);
    const end = start + size;
    this.ensure(end, size);
    if (start > this.top) this.insertFree({ ptr: this.top, bytes: start - this.top });
    this.top = end;
    this.live.set(start, size);
    // Memory below an old `top` may hold a freed region's bytes: always zero-fill.
    new Uint8Array(this.memory.buffer, start, size).fill(0);
    return start;
  }

  /** Return a region to the arena. Freeing an unknown pointer is an error. */
  free(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`free: ${ptr} is not a live arena region`);
    this.live.delete(ptr);
    if (ptr + size === this.top) {
      this.top = ptr;
      // Absorb any free block that now touches the top.
      const last = this.freeList[this.freeList.length - 1];
      if (last && last.ptr + last.bytes === this.top) {
        this.freeList.pop();
        this.top = last.ptr;
      }
      return;
    }
    this.insertFree({ ptr, bytes: size });
  }

  private insertFree(block: Block): void {
    // Keep the list sorted by address and merge with neighbours.
    let i = 0;
    while (i < this.freeList.length && this.freeList[i]!.ptr < block.ptr) i++;
    this.freeList.splice(i, 0, block);
    const next = this.freeList[i + 1];
    if (next && block.ptr + block.bytes === next.ptr) {
      block.bytes += next.bytes;
      this.freeList.splice(i + 1, 1);
    }
    const prev = this.freeList[i - 1];
    if (prev && prev.ptr + prev.bytes === block.ptr) {
      prev.bytes += block.bytes;
      this.freeList.splice(i, 1);
    }
  }

  private ensure(end: number, requested: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const maxBytes = this.maxPages * WASM_PAGE_BYTES;
    if (end > maxBytes) {
      throw new WasmMemoryExhaustedError(requested, Math.max(0, maxBytes - this.top), maxBytes);
    }
    const pages = Math.ceil((end - have) / WASM_PAGE_BYTES);
    try {
      this.memory.grow(pages);
    } catch {
      throw new WasmMemoryExhaustedError(requested, have - this.top, maxBytes);
    }
  }
}

export function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
