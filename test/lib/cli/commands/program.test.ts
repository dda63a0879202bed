import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../../lib/cli/main.ts";

async function run(argv: string[]) {
  let out = "";
  const code = await main(argv, (s) => (out += s));
  return { code, out };
}

test("program --json prints the issue's fields for 64 cores, and --out writes a report", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hermes-report-"));
  try {
    const { code, out } = await run(["program", "--scheme", "odp", "--seed", "1", "--json", "--out", dir]);
    assert.is(code, 0);
    const r = JSON.parse(out);
    assert.is(r.scheme, "odp");
    assert.is(r.seed, "1");
    assert.is(r.gmax.length, 64);
    assert.ok(r.gmax.every((g: number) => g === 80));
    assert.is(r.yield.length, 64);
    assert.is(r.yield.filter((y: number) => y > 99).length, 63);
    assert.ok(r.converged > 0.99 && r.converged <= 1);
    assert.ok(r.iterations > 1 && r.iterations < 5);
    assert.ok(r.programmingTimeS > 0.001 && r.programmingTimeS < 1);
    assert.ok(r.wallS > 0);
    // The report: every figure is a non-empty SVG with a title; no temp files are left.
    for (const f of ["fig2a-distributions.svg", "fig2a-yield.svg", "adc-curves.svg", "iterations.svg", "index.html", "report.json"]) {
      assert.ok(existsSync(join(dir, f)), f);
    }
    const svg = readFileSync(join(dir, "fig2a-distributions.svg"), "utf8");
    assert.match(svg, /^<svg [^>]*xmlns/);
    assert.ok((svg.match(/<polyline/g) ?? []).length >= 128, "at least one SET and one RESET curve per core");
    assert.match(readFileSync(join(dir, "index.html"), "utf8"), /ODP \/ TDP Gmax \(counts\)/);
    assert.is(JSON.parse(readFileSync(join(dir, "report.json"), "utf8")).devices.length, 64);
    assert.is(readdirSync(dir).filter((f) => f.endsWith(".tmp")).length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad flags exit 2 with the flag named", async () => {
  assert.is((await run(["program", "--scheme", "bogus"])).code, 2);
  assert.is((await run(["program", "--sparsity", "1.5"])).code, 2);
  assert.is((await run(["program", "--seed", "x"])).code, 2);
});

test.run();
