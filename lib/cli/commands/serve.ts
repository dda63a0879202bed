// `hermes-sim serve [--port N] [--host 127.0.0.1] [--data DIR]`: the browser playground (web/)
// on a small local HTTP server (node:http). Every response carries the cross-origin isolation
// headers that shared WebAssembly memory needs in a browser (COOP same-origin, COEP
// require-corp, CORP same-origin). It serves the playground's files and, under /data/, the
// files of DIR (a user's models and test sets; `GET /api/data` lists them for the page), and
// nothing else: no path outside those two folders (`..`, encoded or not, and symbolic links
// leading out are refused), no directory listings. Binds to 127.0.0.1 unless --host says
// otherwise; stops cleanly on SIGINT / SIGTERM. In a checkout the playground is built first
// (web/build.mjs into web/dist/); the installed package serves its prebuilt dist/web/.

import { createReadStream, existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { COMPILED, packageFile } from "../../runtime/files.ts";
import { ArgumentError, parseIntArg } from "../../runtime/validate.ts";

/** `serve`'s flags as given (strings): port (0..65535, default 8321; 0 = any free port),
 * host (default 127.0.0.1) and the data folder (optional). */
export interface ServeOptions {
  port?: string;
  host?: string;
  data?: string;
}

/** The headers of every response: cross-origin isolation (shared wasm memory) and no sniffing. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json", ".wasm": "application/wasm",
  ".png": "image/png", ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
};

/** onnxruntime-web's files the page loads (web/build.mjs copies them into web/dist/ort/). */
const ORT_FILES = ["ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"];

/** onnxruntime-web's dist/ folder (a dependency of the package). */
const ortDir = (): string => dirname(fileURLToPath(import.meta.resolve("onnxruntime-web")));

/** Files of DIR listed by `GET /api/data` (relative paths, two folder levels, no dot files, only
 * what /data/ serves), at most this many. */
const MAX_LISTED = 500;

function listFiles(dir: string, prefix = "", depth = 0, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".") || out.length >= MAX_LISTED) continue;
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory() && depth < 1) listFiles(p, `${prefix}${name}/`, depth + 1, out);
    else if (st?.isFile()) out.push(`${prefix}${name}`);
  }
  return out;
}

/** The file `urlPath` (already percent-decoded, below a mount) names inside `base`, or undefined when it would leave `base` or is not a file. */
export function fileInside(base: string, urlPath: string): string | undefined {
  if (urlPath.includes("\0")) return undefined;
  const full = resolve(base, `.${sep}${urlPath.replace(/^\/+/, "")}`);
  const rel = relative(base, full);
  if (rel.startsWith("..") || resolve(base, rel) !== full) return undefined;
  if (!existsSync(full)) return undefined;
  // Symbolic links may not lead out of the folder either.
  const real = realpathSync(full);
  const realBase = realpathSync(base);
  if (real !== realBase && !real.startsWith(realBase + sep)) return undefined;
  return statSync(real).isFile() ? real : undefined;
}

/** The request handler: the playground from `webRoot`, DIR's files under /data/ when `dataDir` is given. */
export function playgroundHandler(webRoot: string, dataDir: string | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const send = (code: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { ...ISOLATION_HEADERS, "Content-Type": type, "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "only GET and HEAD\n");
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      return send(400, "bad URL\n");
    }
    if (path === "/api/data") {
      const files = dataDir ? listFiles(dataDir).filter((f) => fileInside(dataDir, f) !== undefined) : [];
      return send(200, JSON.stringify({ files }), "application/json");
    }
    let file: string | undefined;
    if (path.startsWith("/data/")) file = dataDir ? fileInside(dataDir, path.slice("/data/".length)) : undefined;
    else file = fileInside(webRoot, path === "/" ? "index.html" : path);
    // onnxruntime-web's two files from the installed package when the build left them out.
    if (!file && ORT_FILES.includes(path.slice("/ort/".length)) && path.startsWith("/ort/")) file = fileInside(ortDir(), path.slice("/ort/".length));
    if (!file) return send(404, "not found\n");
    const st = statSync(file);
    res.writeHead(200, {
      ...ISOLATION_HEADERS,
      "Content-Type": TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
      "Content-Length": String(st.size),
      "Cache-Control": "no-cache",
    });
    if (req.method === "HEAD") return void res.end();
    createReadStream(file).on("error", () => res.destroy()).pipe(res);
  };
}

/** The playground's folder: built now in a checkout (web/dist/), prebuilt in the package (dist/web/). */
async function webRoot(): Promise<string> {
  if (COMPILED) {
    const dir = fileURLToPath(packageFile("dist/web/"));
    if (!existsSync(join(dir, "index.html"))) throw new Error(`${dir} is missing: this package was built without the playground (npm run build)`);
    return dir;
  }
  const { buildWeb } = (await import(packageFile("web/build.mjs").href)) as { buildWeb: (o?: { quiet?: boolean }) => Promise<string> };
  return buildWeb({ quiet: true });
}

/** Start the server; resolves with it once listening. Errors name --port / --host / --data. */
export async function startServer(opts: ServeOptions): Promise<{ server: Server; url: string }> {
  const port = opts.port === undefined ? 8321 : parseIntArg(opts.port, 0, 65535, "--port");
  const host = opts.host ?? "127.0.0.1";
  let dataDir: string | undefined;
  if (opts.data !== undefined) {
    dataDir = resolve(opts.data);
    if (!statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) throw new ArgumentError("--data", "a folder (its files are served under /data/)", opts.data);
  }
  const root = await webRoot();
  const server = createServer(playgroundHandler(root, dataDir));
  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      fail(e.code === "EADDRINUSE" ? new ArgumentError("--port", "a free port", port) : e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND" ? new ArgumentError("--host", "an address of this machine", host) : e),
    );
    server.listen(port, host, () => ok());
  });
  const addr = server.address();
  const actual = typeof addr === "object" && addr ? addr.port : port;
  const shown = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return { server, url: `http://${shown}:${actual}/` };
}

/** `hermes-sim serve`: print the URL, serve until SIGINT / SIGTERM, then close. */
export async function serveCommand(opts: ServeOptions, out: (s: string) => void): Promise<void> {
  const { server, url } = await startServer(opts);
  const demo = opts.data !== undefined && ["resnet9-fmnist.onnx", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"].every((f) => existsSync(join(opts.data!, f)));
  out(`hermes-sim playground: ${url}\n`);
  if (demo) out(`  demo (ResNet-9, Fashion-MNIST): ${url}?model=data/resnet9-fmnist.onnx&images=data/t10k-images-idx3-ubyte.gz&labels=data/t10k-labels-idx1-ubyte.gz&limit=64&autorun=1\n`);
  out(`  ${opts.data !== undefined ? `serving ${resolve(opts.data)} under /data/; ` : "no --data folder; "}Ctrl-C to stop\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      server.close(() => done());
      server.closeAllConnections();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  out("hermes-sim playground: stopped\n");
}
