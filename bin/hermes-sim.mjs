#!/usr/bin/env node
// Entry point of the `hermes-sim` command (lib/cli/main.ts). In a checkout of the repository
// (lib/ is there) it runs the TypeScript sources through tsx's loader, registered here so the
// command works from any directory and never runs a stale build; in the installed package
// (dist/ only, see package.json "files") it runs the compiled JavaScript.
import { existsSync } from "node:fs";

// A closed pipe (`hermes-sim run --help | head`) ends the command quietly, as for any
// Unix tool, instead of an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const source = new URL("../lib/cli/main.ts", import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import("../dist/lib/cli/main.js"));
}
process.exitCode = await main(process.argv.slice(2));
