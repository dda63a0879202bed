import { test } from "uvu";
import * as assert from "uvu/assert";
import { ARCH } from "../../../lib/chip/config.ts";
import {
  CORE_LINKS,
  CORES,
  GDPU_BASE,
  LINKS,
  OFFCHIP,
  PREAMBLE_BYTES,
  RoutingTable,
  applyBitErrors,
  bitErrorRate,
  coreAt,
  dataRate,
  gdpuNode,
  hasLink,
  linkBetween,
  manhattan,
  neighbours,
  route,
  transferCycles,
} from "../../../lib/chip/links.ts";
import { ArgumentError } from "../../../lib/runtime/validate.ts";

function throwsArg(fn: () => unknown, argument: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ArgumentError);
    assert.is((e as ArgumentError).argument, argument);
    return;
  }
  assert.unreachable(`expected an ArgumentError for ${argument}`);
}

test("418 links in total: 322 core-core, 16 core-GDPU, 72 from and 8 to the chip I/O", () => {
  assert.is(LINKS.length, 418);
  assert.is(LINKS.length, ARCH.links.value);
  assert.is(CORE_LINKS.length, 322);
  assert.is(LINKS.filter((l) => l.kind === "gdpu").length, 16);
  assert.is(LINKS.filter((l) => l.kind === "offchip-in").length, 72);
  assert.is(LINKS.filter((l) => l.kind === "offchip-out").length, 8);
  // No duplicates, no self-loops, ids are positions.
  const keys = new Set(LINKS.map((l) => `${l.from}>${l.to}`));
  assert.is(keys.size, 418);
  LINKS.forEach((l, i) => {
    assert.is(l.id, i);
    assert.ok(l.from !== l.to);
  });
  // 418 > 64 × 6: they cannot all be core-to-core under the six-neighbour bound.
  assert.ok(LINKS.length > CORES * ARCH.linkMaxNeighbours.value);
});

test("every core transmits to at most six cores and receives from at most six", () => {
  let six = 0;
  for (let c = 0; c < CORES; c++) {
    const { tx, rx } = neighbours(c);
    assert.ok(tx.length <= 6 && rx.length <= 6, `core ${c}: ${tx.length} tx, ${rx.length} rx`);
    assert.is(new Set(tx).size, tx.length);
    if (tx.length === 6 && rx.length === 6) six++;
    for (const t of tx) assert.ok(hasLink(c, t));
    for (const r of rx) assert.ok(hasLink(r, c));
  }
  assert.is(six, 36); // the 6 × 6 interior cores use all ports
  // Corner core (0,0): E, S, SE out; W and N sides missing; in from E, S only.
  assert.equal(neighbours(0).tx.sort((a, b) => a - b), [1, 8, 9]);
  assert.equal(neighbours(0).rx.sort((a, b) => a - b), [1, 8]);
});

test("symmetry: horizontal and vertical links go both ways, diagonals only downwards", () => {
  for (const l of CORE_LINKS) {
    const dr = Math.floor(l.to / 8) - Math.floor(l.from / 8);
    const dc = (l.to % 8) - (l.from % 8);
    assert.is(l.length, Math.abs(dr) + Math.abs(dc));
    assert.is(l.length, manhattan(l.from, l.to));
    if (dr === 0 || dc === 0) {
      assert.is(l.length, 1);
      assert.ok(hasLink(l.to, l.from), `${l.to} -> ${l.from} missing`);
    } else {
      assert.is(dr, 1);
      assert.is(Math.abs(dc), 1);
      assert.not.ok(hasLink(l.to, l.from));
    }
  }
  // TX and RX sets differ (paper: "not necessarily the same").
  const { tx, rx } = neighbours(coreAt(3, 4));
  assert.equal(tx.sort((a, b) => a - b), [coreAt(2, 4), coreAt(3, 3), coreAt(3, 5), coreAt(4, 3), coreAt(4, 4), coreAt(4, 5)]);
  assert.equal(rx.sort((a, b) => a - b), [coreAt(2, 3), coreAt(2, 4), coreAt(2, 5), coreAt(3, 3), coreAt(3, 5), coreAt(4, 4)]);
});

test("GDPU slices receive from the cores either side of the GDPU row; chip I/O links", () => {
  for (let s = 0; s < 8; s++) {
    const g = gdpuNode(s);
    assert.is(g, GDPU_BASE + s);
    assert.ok(hasLink(coreAt(3, s), g));
    assert.ok(hasLink(coreAt(4, s), g));
    assert.not.ok(hasLink(coreAt(2, s), g));
    assert.is(linkBetween(coreAt(3, s), g)!.length, 1);
    assert.ok(hasLink(g, OFFCHIP));
    assert.ok(hasLink(OFFCHIP, g));
  }
  for (let c = 0; c < CORES; c++) {
    assert.ok(hasLink(OFFCHIP, c));
    assert.not.ok(hasLink(c, OFFCHIP));
  }
});

test("data rate: 8 bits per clock, 3.2 Gbit/s at 400 MHz", () => {
  assert.is(dataRate(), 3.2e9);
  assert.is(dataRate(400e6), ARCH.linkDataRateBps.value);
  assert.is(dataRate(100e6), 0.8e9);
  throwsArg(() => dataRate(0), "clockHz");
  throwsArg(() => dataRate(Number.NaN), "clockHz");
});

test("transfer cycles: one byte per clock, preamble included, times hops", () => {
  assert.is(PREAMBLE_BYTES, 1);
  assert.is(transferCycles(0), 1);
  assert.is(transferCycles(256), 257);
  assert.is(transferCycles(256, 7), 7 * 257);
  assert.is(transferCycles(10, 1, 2), 12);
  throwsArg(() => transferCycles(-1), "bytes");
  throwsArg(() => transferCycles(1.5), "bytes");
  throwsArg(() => transferCycles(4, 0), "hops");
});

test("routes: neighbours in one hop, prefer fewer then shorter links", () => {
  const r = route(coreAt(2, 2), coreAt(2, 3))!;
  assert.equal(r.path, [coreAt(2, 2), coreAt(2, 3)]);
  assert.is(r.hops, 1);
  assert.is(r.length, 1);
  // Down-diagonal is one link of length 2 (fewer links wins over two length-1 links).
  const d = route(coreAt(0, 0), coreAt(1, 1))!;
  assert.is(d.hops, 1);
  assert.is(d.length, 2);
  // Up-diagonal has no direct link: two hops of length 1.
  const u = route(coreAt(1, 1), coreAt(0, 0))!;
  assert.is(u.hops, 2);
  assert.is(u.length, 2);
  assert.equal(route(5, 5)!.path, [5]);
  // Every core reaches every core.
  for (let a = 0; a < CORES; a++) for (let b = 0; b < CORES; b++) assert.ok(route(a, b) !== null);
});

test("routes: a vertical chain in one column (LSTM) and a whole grid row (ResNet-9)", () => {
  // LSTM: rows 1-4 (1-based) of a column summed downwards, row 4 to its GDPU slice.
  for (let col = 0; col < 8; col++) {
    const chain = [0, 1, 2, 3].map((row) => coreAt(row, col));
    for (let i = 0; i + 1 < chain.length; i++) {
      const r = route(chain[i]!, chain[i + 1]!)!;
      assert.is(r.hops, 1);
      assert.is(r.length, 1);
    }
    const column = route(chain[0]!, chain[3]!, { via: chain })!;
    assert.equal(column.path, chain);
    assert.equal(route(coreAt(3, col), gdpuNode(col))!.path, [coreAt(3, col), gdpuNode(col)]);
  }
  // ResNet-9: a layer spanning one row aggregates along the row, within the row only.
  for (let row = 0; row < 8; row++) {
    const cores = Array.from({ length: 8 }, (_, c) => coreAt(row, c));
    const r = route(cores[0]!, cores[7]!, { via: cores })!;
    assert.equal(r.path, cores);
    assert.is(r.length, 7);
    const back = route(cores[7]!, cores[0]!, { via: cores })!;
    assert.equal(back.path, [...cores].reverse());
  }
  // Residual two rows down (Conv5 -> Conv7 on consecutive rows): two vertical hops.
  assert.is(route(coreAt(2, 4), coreAt(4, 4))!.hops, 2);
});

test("routes that do not exist", () => {
  // A GDPU slice transmits only to the chip I/O; nothing forwards through it.
  assert.is(route(gdpuNode(0), coreAt(3, 0)), null);
  assert.is(route(coreAt(0, 0), OFFCHIP), null);
  // Cores 0 and 63 share no link and no intermediate core is allowed.
  assert.is(route(0, 63, { via: [] }), null);
  // No up-diagonal link (1,1) -> (0,0), and no intermediate core allowed.
  assert.is(route(coreAt(1, 1), coreAt(0, 0), { via: [coreAt(1, 1), coreAt(0, 0)] }), null);
  assert.is(route(0, 7, { maxHops: 6 }), null);
  assert.ok(route(0, 7, { maxHops: 7 }) !== null);
  // Off-chip input reaches any node in one link.
  assert.is(route(OFFCHIP, 42)!.hops, 1);
});

test("bit errors: zero at 400 MHz for every link, rising past the timing limit", () => {
  for (const l of LINKS) assert.is(bitErrorRate(l.length, 400e6), 0);
  assert.is(bitErrorRate(2, 600e6), 0);
  const a = bitErrorRate(2, 800e6);
  const b = bitErrorRate(2, 1.2e9);
  assert.ok(a > 0 && b > a && b <= 0.5, `${a} ${b}`);
  assert.ok(bitErrorRate(1, 800e6) < a); // shorter links tolerate faster clocks
  assert.ok(bitErrorRate(0, 800e6, { fixedNs: 2 }) > 0);
  throwsArg(() => bitErrorRate(-1), "length");
  throwsArg(() => bitErrorRate(1, -5), "clockHz");
  throwsArg(() => bitErrorRate(1, 4e8, { spreadNs: 0 }), "spreadNs");
  const data = new Uint8Array([0, 255, 7]);
  assert.equal(Array.from(applyBitErrors(data, 0, Math.random)), [0, 255, 7]);
  assert.equal(Array.from(applyBitErrors(data, 1, () => 0.5)), [255, 0, 248]);
  throwsArg(() => applyBitErrors(data, 2, Math.random), "ber");
});

test("routing table: preamble, forwarding, sampling, payload selection, frozen at runtime", () => {
  const t = new RoutingTable();
  const path = route(coreAt(2, 0), coreAt(2, 3))!.path;
  assert.equal(path, [16, 17, 18, 19]);
  const id = t.add(path, { tx: { offset: 2, length: 4 }, rx: { offset: 1, length: 2 } });
  const other = t.add([19, 18]);
  assert.is(id, 0);
  assert.is(other, 1);
  t.freeze();
  assert.throws(() => t.add([0, 1]), /frozen/);
  const frame = t.frame(id, new Uint8Array([10, 11, 12, 13, 14, 15, 16]));
  assert.equal(Array.from(frame), [0, 12, 13, 14, 15]);
  assert.is(transferCycles(frame.length - PREAMBLE_BYTES, path.length - 1), 3 * frame.length);
  assert.is(t.role(17, id), "forward");
  assert.is(t.role(19, id), "sample");
  assert.is(t.role(16, id), null);
  assert.is(t.role(20, id), null);
  const f1 = t.receive(17, 16, frame);
  assert.ok(f1 !== null && "forward" in f1);
  assert.equal(t.receive(19, 18, frame), { data: new Uint8Array([13, 14]) });
  assert.is(t.receive(19, 17, frame), null); // not enabled from that sender
  assert.is(t.receive(25, 17, frame), null); // not on the path: ignores it
  throwsArg(() => t.frame(5, new Uint8Array(1)), "id");
  const u = new RoutingTable();
  throwsArg(() => u.add([0, 63]), "path[0..1]");
  throwsArg(() => u.add([0]), "path");
  throwsArg(() => u.add([gdpuNode(0), OFFCHIP, 3]), "path[1]"); // only cores forward
  throwsArg(() => u.add([gdpuNode(0), 3]), "path[0..1]");
  throwsArg(() => u.add([0, 1], { tx: { offset: -1, length: 2 } }), "tx");
});

test("bad arguments throw ArgumentError naming the argument", () => {
  throwsArg(() => neighbours(64), "core");
  throwsArg(() => neighbours(-1), "core");
  throwsArg(() => neighbours(1.5), "core");
  throwsArg(() => hasLink(0, 73), "b");
  throwsArg(() => hasLink(Number.NaN, 1), "a");
  throwsArg(() => route(0, 99), "to");
  throwsArg(() => route(-3, 1), "from");
  throwsArg(() => route(0, 1, { via: [64] }), "via");
  throwsArg(() => route(0, 1, { maxHops: -1 }), "maxHops");
  throwsArg(() => manhattan(0, 64), "b");
  throwsArg(() => coreAt(8, 0), "row");
  throwsArg(() => coreAt(0, -1), "col");
  throwsArg(() => gdpuNode(8), "slice");
});

test.run();
