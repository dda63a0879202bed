// node:fs in the browser bundle (web/build.mjs maps it here): a read-only table of files the
// page fetched beforehand (lib/chip/functional-fit.json: lib/ reads it by its module-relative
// URL). Everything else a user gives the page reaches lib/ as bytes, never as a path.

const files = new Map<string, Uint8Array>();

/** Make `bytes` readable as `url` (absolute URL string) by readFileSync / existsSync. */
export function provideFile(url: string, bytes: Uint8Array): void {
  files.set(url, bytes);
}

function key(path: unknown): string {
  return path instanceof URL ? path.href : String(path);
}

export function existsSync(path: unknown): boolean {
  return files.has(key(path));
}

export function readFileSync(path: unknown, encoding?: string | { encoding?: string }): Uint8Array | string {
  const b = files.get(key(path));
  if (!b) throw new Error(`no such file in the browser: ${key(path)}`);
  const enc = typeof encoding === "string" ? encoding : encoding?.encoding;
  return enc ? new TextDecoder().decode(b) : b;
}

function unavailable(name: string): never {
  throw new Error(`fs.${name} is not available in the browser`);
}
export const writeFileSync = (): never => unavailable("writeFileSync");
export const mkdirSync = (): never => unavailable("mkdirSync");
export const renameSync = (): never => unavailable("renameSync");
export const rmSync = (): never => unavailable("rmSync");
export const statSync = (): never => unavailable("statSync");
export const readdirSync = (): never => unavailable("readdirSync");
export const openSync = (): never => unavailable("openSync");
export const closeSync = (): never => unavailable("closeSync");
export const fsyncSync = (): never => unavailable("fsyncSync");
export const writeSync = (): never => unavailable("writeSync");
export const appendFileSync = (): never => unavailable("appendFileSync");
export const unlinkSync = (): never => unavailable("unlinkSync");
export default { existsSync, readFileSync };
