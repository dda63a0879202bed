// `hermes-sim map --model` lists the cores each layer needs; a model too large for the chip
// makes `map`, `run`, `cost` and `drift` exit 1 with one line, before any programming and
// without writing anything.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../../lib/cli/main.ts";
import { encodeNpy } from "../../../../lib/network/npy.ts";
import { writeDenseChain } from "../../../fixtures/too-large.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-map-"));
const big = join(dir, "chain70.onnx");
const fits = join(dir, "chain12.onnx");
writeDenseChain(big, 70);
writeDenseChain(fits, 12);
const images = join(dir, "x.npy");
const labels = join(dir, "y.npy");
writeFileSync(images, encodeNpy("float32", [4, 16], new Array(64).fill(0.5)));
writeFileSync(labels, encodeNpy("int64", [4], [0, 1, 2, 3]));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv, (s) => (out += s)), out, err };
  } finally {
    process.stderr.write = write;
  }
}

const LINE = `hermes-sim: ${big} needs 70 cores (17,920 weights); the chip has 64\n`;

test("map --model of a model too large: per-layer needs and the total, then exit 1 with one line", async () => {
  const j = await cli(["map", "--model", big, "--json"]);
  assert.is(j.code, 1);
  assert.is(j.err, LINE);
  const d = JSON.parse(j.out) as { mapping: { fits: boolean; cores: number; weights: number; layers: { name: string; coresNeeded: number; weights: number; matrix: { rows: number; cols: number } }[] }; error: string };
  assert.is(d.mapping.fits, false);
  assert.is(d.mapping.cores, 70);
  assert.is(d.mapping.weights, 70 * 256);
  assert.is(d.mapping.layers.length, 70);
  assert.ok(d.mapping.layers.every((l, i) => l.name === `fc${i}` && l.coresNeeded === 1 && l.weights === 256 && l.matrix.rows === 16 && l.matrix.cols === 16));
  assert.is(d.error, LINE.slice("hermes-sim: ".length, -1));
  const t = await cli(["map", "--model", big]);
  assert.is(t.code, 1);
  assert.is(t.err, LINE);
  assert.match(t.out, /fc69\s+16×16\s+1\s+256/);
  assert.match(t.out, /total\s+70\s+17,920/);
});

test("run, cost and drift of a model too large: exit 1, the one line, nothing written", async () => {
  const out = join(dir, "report");
  const cases = [
    ["run", "--model", big, "--images", images, "--labels", labels, "--json", "--out", out],
    ["cost", "--model", big, "--json"],
    ["drift", "--model", big, "--images", images, "--labels", labels, "--chips", "1", "--times", "25", "--out", out],
  ];
  for (const argv of cases) {
    const r = await cli(argv);
    assert.is(r.code, 1, argv[0]);
    assert.is(r.err, LINE, argv[0]);
    assert.is(r.out, "", argv[0]);
    assert.not.ok(existsSync(out), `${argv[0]} wrote nothing`);
  }
});

test("map --model --json of a model that fits: every layer's cores (ids), coresNeeded (their number without copies) and replicas; --replicas", async () => {
  type Doc = { mapping: { fits: boolean; cores: number; weights: number; layers: { cores: number[]; coresNeeded: number; replicas: number; columnCopies: number; tiles: unknown[] }[] } };
  const r = await cli(["map", "--model", fits, "--json"]);
  assert.is(r.code, 0, r.err);
  const d = JSON.parse(r.out) as Doc;
  assert.is(d.mapping.fits, true);
  // Default --replicas auto: 12 one-tile layers on 64 cores: 5 copies each (60), the 4 cores
  // left give the first four layers a sixth.
  assert.equal(d.mapping.layers.map((l) => l.replicas), [6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5]);
  assert.is(d.mapping.cores, 64);
  assert.is(d.mapping.weights, 12 * 256);
  assert.ok(d.mapping.layers.every((l) => l.coresNeeded === 1 && l.cores.length === l.replicas && l.tiles.length === l.replicas));
  const one = JSON.parse((await cli(["map", "--model", fits, "--json", "--replicas", "1"])).out) as Doc;
  assert.is(one.mapping.cores, 12);
  assert.ok(one.mapping.layers.every((l) => l.coresNeeded === 1 && l.cores.length === 1 && l.replicas === 1 && l.columnCopies === 1));
  const r9path = new URL("../../../../data/resnet9-fmnist.onnx", import.meta.url).pathname;
  const r9 = JSON.parse((await cli(["map", "--model", r9path, "--json", "--replicas", "1"])).out) as Doc;
  assert.is(r9.mapping.layers.reduce((s, l) => s + l.coresNeeded, 0), 40);
  assert.ok(r9.mapping.layers.every((l) => l.coresNeeded === l.cores.length));
  for (const [argv, msg] of [
    [["map", "--model", fits, "--replicas", "0"], /--replicas must be "auto" or an integer in 1\.\.64/],
    [["map", "--model", fits, "--replicas", "6"], /needs 72 cores; the chip has 64/],
    [["map", "--replicas", "2"], /--replicas must be given only with --model/],
  ] as const) {
    const e = await cli([...argv]);
    assert.is(e.code, 2, e.err); // usage: the flag asks for more than the chip has
    assert.match(e.err, msg);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
