// The characterisation report: every figure written, non-empty, titled and labelled, and
// linked from index.html; rendered in headless Chromium when it is installed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../lib/cli/main.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-report-"));
const FIGURES = ["fig2a-distributions", "fig2a-yield", "fig2b-errors", "fig2c-weight-error", "fig2d-drift", "adc-curves", "table1"];

test("characterize --out writes index.html, report.json and every figure", async () => {
  let out = "";
  const code = await main(["characterize", "--cores", "2", "--inputs", "256", "--times", "25,1mo", "--threads", "1", "--out", dir], (s) => (out += s));
  assert.is(code, 0);
  const html = readFileSync(join(dir, "index.html"), "utf8");
  for (const f of FIGURES) {
    const svg = readFileSync(join(dir, `${f}.svg`), "utf8");
    assert.ok(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"), `${f}: an SVG document`);
    assert.ok(svg.length > 2000, `${f}: ${svg.length} bytes`);
    assert.ok((svg.match(/<polyline|<rect/g) ?? []).length > 3, `${f}: has marks`);
    assert.ok(html.includes(`${f}.svg`), `${f}: linked from index.html`);
  }
  const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
  assert.is(json.results.length, 2);
  assert.match(out, /report: .*index\.html/);
});

test("the report renders in headless Chromium (when installed)", () => {
  const browser = ["chromium", "chromium-browser", "google-chrome"].find((b) => spawnSync("which", [b]).status === 0);
  if (!browser) {
    console.log("  skipped: no Chromium on this machine (apt-get install chromium to run this check)");
    return;
  }
  const png = join(dir, "shot.png");
  const r = spawnSync(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,2400", `--screenshot=${png}`, `file://${join(dir, "index.html")}`], { timeout: 60000 });
  assert.ok(existsSync(png), `screenshot written (exit ${r.status})`);
  assert.ok(statSync(png).size > 50000, "a non-trivial image");
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
