// Files of the package, found from this module's own location so that they resolve the
// same from the sources (lib/runtime/files.ts, run through tsx in a checkout) and from the
// compiled package (dist/lib/runtime/files.js, see scripts/build-dist.mjs). dist/ mirrors
// the repository's lib/, workers/ and build/, so module-relative paths between those hold
// in both; package.json (and, in a checkout, bench/) stay at the package root.

/** Whether this code runs compiled (dist/lib/…/*.js) rather than from the TypeScript sources. */
export const COMPILED = import.meta.url.endsWith(".js");

/** The URL of `path` relative to the package root (the folder of package.json). */
export function packageFile(path: string): URL {
  return new URL(path, new URL(COMPILED ? "../../../" : "../../", import.meta.url));
}
