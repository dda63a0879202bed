// Files that travel once through Redis, stored under their SHA-256 (see lib/study/queue/index.ts):
// a model, a test set's images, a functional fit. Jobs carry the hash; a worker fetches the
// bytes once, checks that they hash to it, and keeps what it made of them.
//
// Layout: "hermes-sim:blob:<sha256>" holds {"bytes": N, "chunks": K, "chunk": C} and
// "hermes-sim:blob:<sha256>:<k>" (k < K) the bytes k·C..(k+1)·C − 1, so that no Redis value
// is larger than C (4 MiB by default; HERMES_QUEUE_BLOB_CHUNK). The chunks are written
// first and the head last: a head means a complete blob. Everything expires after KEEP_S
// (each submission renews it).

import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { ArgumentError } from "../../runtime/validate.ts";

export const BLOB_PREFIX = "hermes-sim:blob:";
/** How long jobs, results and blobs stay in Redis (seconds). */
export const KEEP_S = 7 * 86_400;

const MiB = 1 << 20;

/** Bytes per Redis value (HERMES_QUEUE_BLOB_CHUNK, default 4 MiB). */
export function blobChunkBytes(): number {
  const v = process.env["HERMES_QUEUE_BLOB_CHUNK"];
  if (v === undefined || v === "") return 4 * MiB;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1024 || n > 256 * MiB) throw new ArgumentError("HERMES_QUEUE_BLOB_CHUNK", "an integer number of bytes in 1024..268435456", v);
  return n;
}

export const sha256Bytes = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** A blob that is not in Redis or not what its hash says: the job that names it cannot run. */
export class BlobError extends Error {
  override name = "BlobError";
}

interface Head {
  bytes: number;
  chunks: number;
  chunk: number;
}

/** Store `bytes` under their SHA-256 (returned); an existing blob only has its expiry renewed. */
export async function putBlob(client: Redis, bytes: Uint8Array): Promise<string> {
  const sha = sha256Bytes(bytes);
  const key = BLOB_PREFIX + sha;
  const old = await client.get(key);
  if (old !== null) {
    const h = parseHead(old);
    if (h) {
      const p = client.pipeline();
      p.expire(key, KEEP_S);
      for (let k = 0; k < h.chunks; k++) p.expire(`${key}:${k}`, KEEP_S);
      const res = (await p.exec()) ?? [];
      if (res.every(([e, v]) => !e && v === 1)) return sha;
    }
  }
  const chunk = blobChunkBytes();
  const chunks = Math.max(1, Math.ceil(bytes.length / chunk));
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let k = 0; k < chunks; k += 8) {
    const p = client.pipeline();
    for (let j = k; j < Math.min(chunks, k + 8); j++) p.set(`${key}:${j}`, buf.subarray(j * chunk, (j + 1) * chunk), "EX", KEEP_S);
    for (const [e] of (await p.exec()) ?? []) if (e) throw e;
  }
  await client.set(key, JSON.stringify({ bytes: bytes.length, chunks, chunk } satisfies Head), "EX", KEEP_S);
  return sha;
}

function parseHead(text: string): Head | undefined {
  try {
    const h = JSON.parse(text) as Head;
    const ok = [h.bytes, h.chunks, h.chunk].every((v) => Number.isInteger(v) && v >= 0) && h.chunks >= 1 && h.chunk >= 1 && h.chunks === Math.max(1, Math.ceil(h.bytes / h.chunk));
    return ok ? h : undefined;
  } catch {
    return undefined;
  }
}

/** The bytes stored under `sha`, checked against it; `what` names them in errors ("model"). */
export async function getBlob(client: Redis, sha: string, what: string): Promise<Buffer> {
  const key = BLOB_PREFIX + sha;
  const text = await client.get(key);
  if (text === null) throw new BlobError(`${what} ${sha.slice(0, 12)} is not in Redis (expired or removed): submit the run again`);
  const h = parseHead(text);
  if (!h || h.bytes > 64 * 1024 * MiB) throw new BlobError(`${what} ${sha.slice(0, 12)}: malformed blob head in Redis`);
  const parts: Buffer[] = [];
  for (let k = 0; k < h.chunks; k += 8) {
    const keys = Array.from({ length: Math.min(h.chunks, k + 8) - k }, (_, j) => `${key}:${k + j}`);
    const got = await Promise.all(keys.map((kk) => client.getBuffer(kk)));
    got.forEach((b, j) => {
      if (b === null) throw new BlobError(`${what} ${sha.slice(0, 12)}: chunk ${k + j} of ${h.chunks} is not in Redis (expired or removed): submit the run again`);
      parts.push(b);
    });
  }
  const bytes = Buffer.concat(parts);
  if (bytes.length !== h.bytes || sha256Bytes(bytes) !== sha) {
    throw new BlobError(`${what} ${sha.slice(0, 12)}: the ${bytes.length} bytes fetched from Redis do not have that SHA-256 (corrupted or tampered with); refused`);
  }
  return bytes;
}
