#!/usr/bin/env node
// `npm test`: type-check (tsc --noEmit, strict), then every uvu test under test/,
// then one closing line "N passed, N failed". Exits non-zero on any failure.
// Each test file runs in its own process (isolation: one crashing file cannot hide
// the others), at most `--jobs` at a time (default: 2). test/package.test.ts (npm pack and an
// install into an empty project: heavy on disk and CPU) runs alone after the others, so that
// it does not slow the tests that measure their own timing.
import { spawnSync, spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const filter = args.find((a) => !a.startsWith("--"));
const jobsArg = args.find((a) => a.startsWith("--jobs="));
const jobs = jobsArg ? Number(jobsArg.slice(7)) : 2;
const skipTypecheck = args.includes("--no-typecheck");

let passed = 0;
let failed = 0;

if (!skipTypecheck) {
  const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", join(root, "tsconfig.json")], {
    stdio: "inherit",
  });
  if (tsc.status === 0) {
    console.log("typecheck: ok");
    passed++;
  } else {
    console.log("typecheck: FAILED");
    failed++;
  }
}

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}
const files = walk(join(root, "test"))
  .filter((f) => !filter || f.includes(filter))
  .sort();

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code, signal) => resolve({ file, code, signal, out }));
  });
}

// uvu prints "Total: N", "Passed: N", "Skipped: N" per process.
function counts(out) {
  const num = (k) => {
    const m = out.match(new RegExp(`${k}:\\s+(\\d+)`));
    return m ? Number(m[1]) : 0;
  };
  return { total: num("Total"), passed: num("Passed"), skipped: num("Skipped") };
}

const ALONE = /[\\/]package\.test\.ts$/;
const queue = files.filter((f) => !ALONE.test(f));
const results = [];
async function worker() {
  while (queue.length) {
    const f = queue.shift();
    const r = await runFile(f);
    results.push(r);
    const c = counts(r.out);
    const rel = relative(root, f);
    const ok = r.code === 0 && c.total > 0 && c.passed === c.total - c.skipped;
    process.stdout.write(r.out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ""));
    if (ok) {
      passed += c.passed;
      console.log(`ok   ${rel} (${c.passed} passed)`);
    } else {
      const f2 = Math.max(1, c.total - c.passed - c.skipped);
      passed += c.passed;
      failed += f2;
      console.log(`FAIL ${rel} (exit ${r.code}${r.signal ? " " + r.signal : ""}, ${c.passed}/${c.total} passed)`);
    }
  }
}
await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
queue.push(...files.filter((f) => ALONE.test(f)));
await worker();
if (files.length === 0) {
  console.log("no test files found");
  failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
