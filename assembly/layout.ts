// Where static data ends: the host-side arena (lib/wasm.ts) allocates above this.
export function heapBase(): usize {
  return __heap_base;
}
