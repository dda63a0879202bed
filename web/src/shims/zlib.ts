// node:zlib in the browser bundle (web/build.mjs maps it here). The page gunzips test sets
// itself before lib/ sees them (DecompressionStream is asynchronous), so lib/'s gunzipSync is
// never reached with gzip bytes; if it is, the message says so.

export function gunzipSync(_bytes: Uint8Array): never {
  throw new Error("gzip data reached the simulator undecompressed (the page decompresses files first)");
}
