// Files are written atomically: to a temporary file in the same folder, then renamed,
// so a reader (or a killed run) never sees half a file.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Write `data` to `path` atomically (a temporary file in the same folder, then rename), creating the folder; throws the fs error. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
