// Memory layout below the host's arena: static data ends at __heap_base; then a reserved
// region for tables the kernels fill themselves (not in the binary: a static data segment
// would ship its zeros); the host-side arena (lib/runtime/wasm.ts) allocates above heapBase().

/** The normal table of assembly/normal-table.ts: 65,536 f32. */
export const NORMAL_TABLE_BYTES: usize = 65536 * 4;

// @ts-ignore: decorator
@inline
export function normalTableAddress(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

export function heapBase(): usize {
  return normalTableAddress() + NORMAL_TABLE_BYTES;
}
