// node:url in the browser bundle (web/build.mjs maps it here): module-relative files are URLs
// in the browser, so a "path" is the URL itself (see ./fs.ts).

export function fileURLToPath(url: string | URL): string {
  return url instanceof URL ? url.href : url;
}
export function pathToFileURL(path: string): URL {
  return new URL(path, globalThis.location?.href);
}
export const URL_ = URL;
