// Redis connections for the queue: URLs (redacted in messages), timings, fail-fast connect (see lib/study/queue/index.ts).

import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { ArgumentError } from "../../runtime/validate.ts";

/** A queue failure (no server, lost connection, ...): exit code 1, one line. */
export class QueueError extends Error {
  /** Always "QueueError". */
  override name = "QueueError";
}

// ---------------------------------------------------------------------------------------
// URLs and connections

/** A parsed queue URL: where and how to connect to Redis. */
export interface QueueTarget {
  /** Host name or address. */
  host: string;
  /** TCP port (default 6379). */
  port: number;
  /** Redis database number (default 0). */
  db: number;
  /** User name, when the URL has one. */
  username?: string;
  /** Password, from the URL or HERMES_QUEUE_PASSWORD. */
  password?: string;
  /** Whether the connection uses TLS (rediss://). */
  tls: boolean;
  /** With TLS: the certificate authority to trust (PEM), besides Node's own and NODE_EXTRA_CA_CERTS. */
  ca?: Buffer;
  /** The URL without user or password (user:password shown as ***): safe to print. */
  display: string;
}

/** Where a queue command connects: the URL (--queue), a CA file for TLS (--tls-ca). */
export interface QueueAccess {
  /** The Redis URL, redis://[user:password\@]host[:port][/db] (rediss:// for TLS). */
  queue: string;
  /** With rediss://: a PEM file of the certificate authority to trust (--tls-ca). */
  tlsCa?: string;
}

/**
 * The queue target of a command: the URL parsed; the password from HERMES_QUEUE_PASSWORD when
 * the URL has none (so that it needs not be on the command line, where `ps` shows it); with
 * rediss://, the CA from --tls-ca or HERMES_QUEUE_TLS_CA (Node's NODE_EXTRA_CA_CERTS works too).
 */
export function queueTarget(a: QueueAccess): QueueTarget {
  const target = parseQueueUrl(a.queue);
  const envPassword = process.env["HERMES_QUEUE_PASSWORD"];
  if (target.password === undefined && envPassword) {
    target.password = envPassword;
    if (!target.display.includes("***@")) target.display = target.display.replace("//", "//***@");
  }
  const caPath = a.tlsCa ?? (process.env["HERMES_QUEUE_TLS_CA"] || undefined);
  if (caPath !== undefined) {
    const flag = a.tlsCa !== undefined ? "--tls-ca" : "HERMES_QUEUE_TLS_CA";
    if (!target.tls) throw new ArgumentError(flag, "given only with a rediss:// (TLS) --queue URL", caPath);
    try {
      target.ca = readFileSync(caPath);
    } catch (e) {
      throw new ArgumentError(flag, `a readable PEM file of the certificate authority (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, caPath);
    }
    if (!/-----BEGIN CERTIFICATE-----/.test(target.ca.toString("latin1"))) throw new ArgumentError(flag, "a PEM file (-----BEGIN CERTIFICATE-----)", caPath);
  }
  return target;
}

/** `text` with any user:password (or token) before an "@" replaced by "***". */
export function redactUrl(text: string): string {
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@");
}

/**
 * Parse redis://[user:password\@]host[:port][/db] (rediss:// for TLS).
 * @param argument - the name the error gives the URL
 * @defaultValue argument: `"--queue"`
 * @throws {@link ArgumentError} on anything else (the password is never shown)
 */
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

const TLS_CERT_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "CERT_SIGNATURE_FAILURE", "CERT_UNTRUSTED",
]);

/** One line for a connection failure; never contains the password. */
export function explain(e: unknown, target: QueueTarget): string {
  const err = e as NodeJS.ErrnoException & { message?: string };
  const code = err?.code ?? "";
  const msg = String(err?.message ?? e);
  const where = target.display;
  const line = (): string => {
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
      return `the TLS certificate of ${where} does not name that host (${msg.split("\n")[0]}): connect by a name or address the certificate holds`;
    }
    if (TLS_CERT_CODES.has(code)) {
      return `the TLS certificate of ${where} is not trusted (${code}: ${msg.split("\n")[0]}): give its certificate authority with --tls-ca FILE (or HERMES_QUEUE_TLS_CA, NODE_EXTRA_CA_CERTS)`;
    }
    if (/^ERR_SSL_|SSL routines|wrong version number/i.test(`${code} ${msg}`)) return `TLS with ${where} failed (${msg.split("\n")[0]}): is that port a TLS port (rediss://) or a plain one (redis://)?`;
    if (/NOAUTH/.test(msg)) return `Redis at ${where} requires a password: give it in --queue (redis://:PASSWORD@HOST:PORT, or user:password for an ACL user) or in HERMES_QUEUE_PASSWORD`;
    if (/WRONGPASS|invalid (username|password)|AUTH.*(failed|called without)/i.test(msg)) return `Redis at ${where} refused the credentials (${msg.split(/\s+/)[0]}): check the user and password in --queue`;
    if (/NOPERM/.test(msg)) return `Redis at ${where}: the user may not run a command the queue needs (${msg.split("\n")[0]}): see the ACL line in the README`;
    if (code === "ECONNREFUSED" || /ECONNREFUSED/.test(msg)) return `no Redis server at ${where} (connection refused): start one or fix --queue`;
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || /ENOTFOUND|EAI_AGAIN/.test(msg)) return `cannot resolve the host of ${where}: check --queue`;
    if (code === "ETIMEDOUT" || /ETIMEDOUT|timed? ?out/i.test(msg)) {
      return `no answer from ${where} within the connect timeout: is Redis running there and reachable${target.tls ? ", and is that port a TLS port?" : "?"}`;
    }
    if (code === "ECONNRESET" || code === "EPIPE") return `${where} closed the connection (is it a Redis server${target.tls ? "" : ", or a TLS port that needs rediss://"}?)`;
    if (/RESP|Protocol error/i.test(msg)) return `${where} does not answer as a Redis server does: check the host and port in --queue`;
    return `Redis at ${where}: ${msg.split("\n")[0]}`;
  };
  return redactSecret(line(), target);
}

/** `text` with the target's password (if any) replaced by "***". */
export function redactSecret(text: string, target: QueueTarget): string {
  return target.password ? text.split(target.password).join("***") : text;
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
    ...(target.tls ? { tls: target.ca ? { ca: target.ca } : {} } : {}),
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
