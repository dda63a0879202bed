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
import { OFFCHIP, route } from "../../../../lib/chip/links.ts";

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

test("map --model fire.onnx --json: both fire-module concats' routes; cost --json prices the one read over the links", async () => {
  const fire = new URL("../../../fixtures/models/fire.onnx", import.meta.url).pathname;
  type Route = { path: number[]; hops: number };
  type Source = { from: string; source: string; layer?: string; outputBlock?: number; sender: number; channels: [number, number]; through: string[]; priced: boolean; tiles: { tile: number; core: number; bytes: number; route: Route }[] };
  type Layer = { name: string; receivers: number[]; tiles: { core: number }[]; inputRoutes: Source[] };
  const r = await cli(["map", "--model", fire, "--json"]);
  assert.is(r.code, 0, r.err);
  const layers = (JSON.parse(r.out) as { mapping: { layers: Layer[] } }).mapping.layers;
  const byName = (n: string) => layers.find((l) => l.name === n)!;
  // Fire module 1: its concat feeds a max-pool (on the host), so the next squeeze reads the
  // pooled 128 channels from the chip I/O (node 72) into each of its tiles, unpriced.
  const sq = byName("/features/features.5/squeeze/Conv");
  assert.is(sq.inputRoutes.length, 1);
  const [pool] = sq.inputRoutes;
  assert.equal([pool!.from, pool!.source, pool!.sender, pool!.channels, pool!.priced], ["/features/features.4/MaxPool", "host", OFFCHIP, [0, 128], false]);
  assert.equal(pool!.tiles.map((t) => t.route.path), sq.tiles.map((t) => [OFFCHIP, t.core]));
  // Fire module 2: its concat feeds the classifier conv directly: expand1x1 (channels 0–63)
  // and expand3x3 (64–127) send from their receivers to every tile of the classifier.
  const cls = byName("/classifier/classifier.1/Conv");
  assert.equal(cls.inputRoutes.map((s) => [s.from, s.layer, s.channels, s.through, s.priced]), [
    ["/features/features.5/Relu_1", "/features/features.5/expand1x1/Conv", [0, 64], ["/features/features.5/Concat"], true],
    ["/features/features.5/Relu_2", "/features/features.5/expand3x3/Conv", [64, 128], ["/features/features.5/Concat"], true],
  ]);
  for (const s of cls.inputRoutes) {
    assert.is(s.sender, byName(s.layer!).receivers[s.outputBlock!]);
    assert.equal(s.tiles.map((t) => t.core), cls.tiles.map((t) => t.core));
    for (const t of s.tiles) {
      assert.is(t.route.path[0], s.sender);
      assert.is(t.route.path.at(-1), t.core);
      assert.is(t.route.hops, route(s.sender, t.core)!.hops);
      assert.is(t.bytes, 64); // a 1×1 conv: one column per channel
    }
  }
  // Every other layer's input is priced nowhere.
  assert.ok(layers.filter((l) => l !== cls).every((l) => l.inputRoutes.every((s) => !s.priced)));
  const text = await cli(["map", "--model", fire]);
  assert.match(text.out, /concat inputs over the links \(priced in the cost\):\n {2}\/classifier\/classifier\.1\/Conv ← \/features\/features\.5\/Relu_1 \(core \d+, channels 0–63\), \/features\/features\.5\/Relu_2 \(core \d+, channels 64–127\): 14 routes/);
  type Cost = { latencyUs: number; layers: { layer: string; latencyUs: number; steps: number; inputLinks?: { latencyNsPerStep: number; bytesPerStep: number } }[] };
  const c = JSON.parse((await cli(["cost", "--model", fire, "--json"])).out) as Cost;
  const priced = c.layers.filter((l) => l.inputLinks !== undefined);
  assert.equal(priced.map((l) => [l.layer, l.steps, l.inputLinks!.bytesPerStep]), [["/classifier/classifier.1/Conv", 9, 2 * 7 * 64]]);
  assert.ok(Math.abs(c.latencyUs - c.layers.reduce((s, l) => s + l.latencyUs, 0)) < 1e-9);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
