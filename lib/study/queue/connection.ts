// Redis connections for the queue: URLs (redacted in messages), timings, fail-fast connect (see lib/study/queue/index.ts).

import { hostname } from "node:os";
import { Redis } from "ioredis";
import { ArgumentError } from "../../runtime/validate.ts";

/** A queue failure (no server, lost connection, ...): exit code 1, one line. */
export class QueueError extends Error {
  override name = "QueueError";
}

// ---------------------------------------------------------------------------------------
// URLs and connections

export interface QueueTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL without user or password (user:password shown as ***): safe to print. */
  display: string;
}

/** `text` with any user:password (or token) before an "@" replaced by "***". */
export function redactUrl(text: string): string {
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@");
}

/** Parse redis://[user:password@]host[:port][/db] (rediss:// for TLS). */
export function parseQueueUrl(text: string, argument = "--queue"): QueueTarget {
  const expected = "a Redis URL redis://HOST:PORT (or redis://[user:password@]HOST[:PORT][/DB], rediss:// for TLS)";
  const shown = redactUrl(String(text));
  let u: URL;
  try {
    u = new URL(String(text).trim());
  } catch {
    throw new ArgumentError(argument, expected, shown);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new ArgumentError(argument, expected, shown);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new ArgumentError(argument, expected, shown);
  const port = u.port === "" ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, "");
  if (!/^\d{0,2}$/.test(path) || u.search || u.hash) throw new ArgumentError(argument, `${expected} with at most a database number as path`, shown);
  const db = path === "" ? 0 : Number(path);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const auth = username || password ? "***@" : "";
  const display = `${u.protocol}//${auth}${u.hostname}:${port}${db ? `/${db}` : ""}`;
  return { host, port, db, tls: u.protocol === "rediss:", display, ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function envMs(name: string, fallback: number, lo = 100): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > 86_400_000) throw new ArgumentError(name, `an integer number of milliseconds in ${lo}..86400000`, v);
  return n;
}

/** Timing knobs (milliseconds); tests shorten them through the environment. */
export function queueTimings(): { connectMs: number; reconnectMs: number; lockMs: number; stalledMs: number; pollMs: number } {
  const lockMs = envMs("HERMES_QUEUE_LOCK_MS", 30_000, 500);
  return {
    connectMs: envMs("HERMES_QUEUE_CONNECT_MS", 3_000),
    reconnectMs: envMs("HERMES_QUEUE_RECONNECT_MS", 15_000, 0),
    lockMs,
    stalledMs: envMs("HERMES_QUEUE_STALLED_MS", Math.min(lockMs, 30_000)),
    pollMs: envMs("HERMES_QUEUE_POLL_MS", 250, 10),
  };
}

/** One line for a connection failure; never contains the password. */
export function explain(e: unknown, target: QueueTarget): string {
  const err = e as NodeJS.ErrnoException & { message?: string };
  const code = err?.code ?? "";
  const msg = String(err?.message ?? e);
  const where = target.display;
  if (code === "ECONNREFUSED" || /ECONNREFUSED/.test(msg)) return `no Redis server at ${where} (connection refused): start one (redis-server --port ${target.port}) or fix --queue`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || /ENOTFOUND|EAI_AGAIN/.test(msg)) return `cannot resolve the host of ${where}: check --queue`;
  if (code === "ETIMEDOUT" || /ETIMEDOUT|timed? ?out/i.test(msg)) return `no answer from ${where} within the connect timeout: is Redis running there and reachable?`;
  if (code === "ECONNRESET" || code === "EPIPE") return `${where} closed the connection (is it a Redis server?)`;
  if (/RESP|Protocol error/i.test(msg)) return `${where} does not answer as a Redis server does: check the host and port in --queue`;
  if (/NOAUTH|WRONGPASS|AUTH/.test(msg)) return `Redis at ${where} refused the credentials (${msg.split(/\s+/)[0]}): check the user and password in --queue`;
  const clean = target.password ? msg.split(target.password).join("***") : msg;
  return `Redis at ${where}: ${clean.split("\n")[0]}`;
}

interface Connection {
  client: Redis;
  /** Resolves with an explanation once the link is lost for good (retries exhausted). */
  lost: Promise<string>;
  close(): Promise<void>;
}

/**
 * Connect to Redis or fail within about `connectMs` with a clear QueueError. After the first
 * success a dropped link is retried for `reconnectMs`, then `lost` resolves. `blocking`
 * clients (BullMQ workers) must have maxRetriesPerRequest null (BullMQ requires it) and keep
 * the offline queue; others fail a command after one retry and at once while disconnected.
 */
export async function connectRedis(target: QueueTarget, role: string, blocking: boolean): Promise<Connection> {
  const t = queueTimings();
  let ready = false;
  let lostAt: number | undefined;
  let lastError: unknown;
  const client = new Redis({
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
    connectionName: `hermes-sim-${role}`,
    lazyConnect: true,
    // The first connection is made (and checked) here, before BullMQ sees the client. Later,
    // a submitter's command fails at once while the link is down (its poll loop waits between
    // tries); a worker's is held until the link is back or given up (BullMQ's worker loop
    // retries failed commands without waiting, which would starve the reconnection timers).
    enableOfflineQueue: blocking,
    maxRetriesPerRequest: blocking ? null : 1,
    connectTimeout: t.connectMs,
    // Never retry the first connection (fail fast); after a success, retry for reconnectMs.
    retryStrategy: (times: number) => {
      if (!ready) return null;
      lostAt ??= Date.now();
      if (Date.now() - lostAt > t.reconnectMs) return null;
      return Math.min(100 * times, 1000);
    },
  });
  let onLost: (why: string) => void = () => {};
  const lost = new Promise<string>((r) => (onLost = r));
  client.on("error", (e) => (lastError = e));
  client.on("ready", () => {
    ready = true;
    lostAt = undefined;
  });
  let closing = false;
  client.on("end", () => {
    if (!closing && ready) onLost(lastError ? explain(lastError, target) : `${target.display} closed the connection`);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), t.connectMs + 2000);
      }),
    ]);
    await client.ping();
  } catch (e) {
    closing = true;
    client.disconnect();
    throw new QueueError(explain(lastError ?? e, target));
  } finally {
    clearTimeout(timer);
  }
  return {
    client,
    lost,
    async close() {
      closing = true;
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}
