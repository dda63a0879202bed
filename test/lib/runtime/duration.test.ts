import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatDuration, parseDuration, parseDurations } from "../../../lib/runtime/duration.ts";

test("durations with units", () => {
  assert.is(parseDuration("25"), 25);
  assert.is(parseDuration("25s"), 25);
  assert.is(parseDuration("1h"), 3600);
  assert.is(parseDuration("1.5d"), 129600);
  assert.is(parseDuration("1w"), 604800);
  assert.is(parseDuration("1mo"), 2592000);
  assert.is(parseDuration("2min"), 120);
  assert.equal(parseDurations("25,1h,1d,1w,1mo"), [25, 3600, 86400, 604800, 2592000]);
  assert.is(formatDuration(2592000), "1mo");
  assert.is(formatDuration(3600), "1h");
  assert.is(formatDuration(25), "25s");
});

test("bad durations name the argument", () => {
  assert.throws(() => parseDuration("-3", "--times[0]"), /--times\[0\] must be a time > 0/);
  assert.throws(() => parseDuration("1 fortnight"), /must be a time > 0/);
  assert.throws(() => parseDuration("0"), /must be a time > 0/);
  assert.throws(() => parseDurations("1d,1h"), /--times must be increasing times/);
});

test.run();
