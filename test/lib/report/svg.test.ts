import { test } from "uvu";
import * as assert from "uvu/assert";
import { barChart, lineChart, ticks } from "../../../lib/report/svg.ts";

test("ticks are round numbers covering the range", () => {
  assert.equal(ticks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assert.equal(ticks(-20, 220, 6), [0, 50, 100, 150, 200]);
  assert.equal(ticks(97.5, 100, 5), [97.5, 98, 98.5, 99, 99.5, 100]);
});

test("a line chart has its title, axis labels, one polyline per series, and escapes text", () => {
  const svg = lineChart(
    [
      { name: "a", x: [0, 1, 2], y: [1, 4, 9], color: "red" },
      { name: "b<c", x: [0, 1, 2], y: [2, 3, 4], color: "blue" },
    ],
    { title: "T & U", xLabel: "time (s)", yLabel: "error (%)" },
  );
  assert.is((svg.match(/<polyline/g) ?? []).length, 2);
  assert.match(svg, /T &amp; U/);
  assert.match(svg, /time \(s\)/);
  assert.match(svg, /b&lt;c/);
  // The largest y maps inside the plot area (top margin 36, height 360 − 48).
  const ys = [...svg.matchAll(/points="([^"]+)"/g)].flatMap((m) => m[1]!.split(" ").map((p) => Number(p.split(",")[1])));
  assert.ok(ys.every((y) => y >= 36 && y <= 312), ys.join(","));
});

test("a bar chart draws one titled rect per bar", () => {
  const svg = barChart(
    [1, 2, 3].map((v) => ({ label: `b${v}`, value: v, color: "#333" })),
    { title: "bars", xLabel: "x", yLabel: "y" },
  );
  assert.is((svg.match(/<rect [^>]*><title>b\d: \d<\/title><\/rect>/g) ?? []).length, 3);
});

test("on a log axis, zeros break a line into segments", () => {
  const svg = lineChart([{ name: "h", x: [0, 1, 2, 3, 4, 5], y: [1, 2, 0, 3, 4, 0], color: "red" }], {
    title: "log",
    xLabel: "x",
    yLabel: "y",
    logY: true,
  });
  assert.is((svg.match(/<polyline/g) ?? []).length, 2);
});

test.run();
