#!/usr/bin/env node
// Entry point of the `hermes-sim` command. The library is TypeScript run through tsx's
// loader (registered here, so the command works from any directory); see lib/cli.ts.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../lib/cli.ts");
process.exitCode = await main(process.argv.slice(2));
