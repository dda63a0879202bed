#!/usr/bin/env node
// Entry point of the `hermes-sim` command. The library is TypeScript run through tsx's
// loader (registered here, so the command works from any directory); see lib/cli/main.ts.
import { register } from "tsx/esm/api";

// A closed pipe (`hermes-sim run --help | head`) ends the command quietly, as for any
// Unix tool, instead of an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

register();
const { main } = await import("../lib/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
