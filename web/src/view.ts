// What the page shows of a model and a run: the floorplan (the report's SVG, lib/report/
// floorplan.ts, with each core's layer, tile and utilisation on hover), the per-layer cost,
// the cores a too-large model needs, the accuracy figures and the accuracy against read time.

import type { MappingNeeds } from "../../lib/network/needs.ts";
import { floorplanSvg } from "../../lib/report/floorplan.ts";
import type { LoadedModel } from "./run.ts";

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const n0 = (x: number): string => x.toLocaleString("en-US");
const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;

/** Hover text of each used core: layer, tile (rows × columns of the layer's matrix), utilisation, route. */
function coreInfo(m: LoadedModel): Map<number, string> {
  const info = new Map<number, string>();
  m.mapping.layers.forEach((p, i) => {
    for (const t of p.tiles) {
      const rows = t.rowRange[1] - t.rowRange[0];
      const cols = t.colRange[1] - t.colRange[0];
      const receiver = p.receivers.includes(t.core);
      info.set(t.core, [
        `core ${t.core} (${Math.floor(t.core / 8) + 1},${(t.core % 8) + 1}) — L${i} ${p.layer}`,
        `tile: outputs ${t.rowRange[0]}..${t.rowRange[1] - 1}, inputs ${t.colRange[0]}..${t.colRange[1] - 1} of ${p.matrix.rows}×${p.matrix.cols}`,
        `utilisation ${((100 * rows * cols) / 65536).toFixed(1)} % (${rows}×${cols} of 256×256)`,
        receiver ? "receiver: adds the partial sums, applies the LDPU epilogue" : `partial sums: ${t.route.hops} hop${t.route.hops === 1 ? "" : "s"} to core ${t.route.path[t.route.path.length - 1]}`,
      ].join("\n"));
    }
  });
  return info;
}

/** The floorplan with hover details, and the per-layer cost table. */
export function showPlacement(m: LoadedModel): void {
  $("placement").hidden = false;
  const box = $("floorplan");
  box.innerHTML = floorplanSvg(m.mapping);
  const info = coreInfo(m);
  const tip = $("tip");
  box.querySelectorAll<SVGRectElement>("rect[data-core]").forEach((r) => {
    const core = Number(r.dataset["core"]);
    r.addEventListener("mousemove", (e) => {
      tip.textContent = info.get(core) ?? `core ${core} (${Math.floor(core / 8) + 1},${(core % 8) + 1}): unused`;
      tip.style.left = `${e.pageX + 14}px`;
      tip.style.top = `${e.pageY + 14}px`;
      tip.hidden = false;
    });
    r.addEventListener("mouseleave", () => (tip.hidden = true));
  });
  const c = m.cost;
  $("cost").innerHTML = `<table><thead><tr><th>layer</th><th>cores</th><th>MVM steps</th><th>utilisation</th><th>latency (µs)</th><th>energy (µJ)</th></tr></thead><tbody>${c.layers
    .map((l) => `<tr><td>${esc(l.layer)}</td><td>${l.cores}</td><td>${n0(l.steps)}</td><td>${(100 * l.utilisation).toFixed(1)} %</td><td>${l.latencyUs.toFixed(1)}</td><td>${l.energyUj.toFixed(2)}</td></tr>`)
    .join("")}<tr class="total"><td>total</td><td>${c.cores}</td><td></td><td></td><td>${c.latencyUs.toFixed(1)}</td><td>${c.energyUj.toFixed(1)}</td></tr></tbody></table>
    <p class="status">${n0(Math.round(c.inferencesPerS))} images/s and ${n0(Math.round(c.inferencesPerJ))} images/J at one image at a time.</p>`;
}

/** A model larger than the chip: what it needs, layer by layer. */
export function showNeeds(message: string, needs: MappingNeeds): void {
  const box = $("needs");
  box.hidden = false;
  box.innerHTML = `<h2>Too large for the chip</h2><p>${esc(message)}.</p><table><thead><tr><th>layer</th><th>matrix</th><th>cores</th><th>weights</th></tr></thead><tbody>${needs.layers
    .map((l) => `<tr><td>${esc(l.layer)}</td><td>${l.matrix.rows}×${l.matrix.cols}</td><td>${l.cores}</td><td>${n0(l.weights)}</td></tr>`)
    .join("")}<tr class="total over"><td>total</td><td></td><td>${needs.cores}</td><td>${n0(needs.weights)}</td></tr><tr><td>the chip</td><td></td><td>${needs.chip.cores}</td><td>${n0(needs.chip.weights)}</td></tr></tbody></table>`;
}

/** The accuracy figures (partial while the run goes on). */
export function showSummary(s: { done: number; total: number; accuracy: number; floatAccuracy?: number; agreement?: number; cores: number; wallS?: number; digest?: string }): void {
  $("results").hidden = false;
  const metric = (value: string, what: string) => `<div class="metric"><b>${value}</b><span>${what}</span></div>`;
  $("summary").innerHTML = [
    metric(pct(s.accuracy), `on the chip (${s.done} of ${s.total} images)`),
    s.floatAccuracy !== undefined ? metric(pct(s.floatAccuracy), "in float (onnxruntime-web)") : "",
    s.agreement !== undefined ? metric(pct(s.agreement), "top-1 agreement with float") : "",
    metric(String(s.cores), "cores used"),
    s.wallS !== undefined ? metric(`${s.wallS} s`, "simulation time") : "",
  ].join("") + (s.digest ? `<p class="status">digest ${s.digest.slice(0, 16)}… (the same as <code>hermes-sim run --model … --json</code> with these settings)</p>` : "");
}

/** Accuracy against read time: a small line chart and its table. */
export function showSweep(points: readonly { time: string; accuracy: number }[], floatAccuracy: number): void {
  const W = 520;
  const H = 200;
  const L = 50;
  const B = 30;
  const n = Math.max(2, points.length);
  const lo = Math.max(0, Math.min(floatAccuracy, ...points.map((p) => p.accuracy)) - 0.05);
  const x = (i: number) => L + (i * (W - L - 20)) / (n - 1);
  const y = (a: number) => 10 + ((1 - (a - lo) / (1 - lo || 1)) * (H - B - 10));
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.accuracy).toFixed(1)}`).join(" ");
  const svg = `<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-size="11" font-family="sans-serif">
    <line x1="${L}" y1="${y(floatAccuracy)}" x2="${W - 20}" y2="${y(floatAccuracy)}" stroke="#999" stroke-dasharray="4 3"/><text x="${L + 6}" y="${y(floatAccuracy) - 5}" fill="#666">float ${pct(floatAccuracy)}</text>
    <line x1="${L}" y1="${H - B}" x2="${W - 20}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="10" x2="${L}" y2="${H - B}" stroke="#333"/>
    <text x="${L - 6}" y="${y(lo) + 4}" text-anchor="end">${(100 * lo).toFixed(0)} %</text><text x="${L - 6}" y="${y(1) + 4}" text-anchor="end">100 %</text>
    ${points.map((p, i) => `<circle cx="${x(i)}" cy="${y(p.accuracy)}" r="3" fill="#2f5fb3"/><text x="${x(i)}" y="${H - B + 16}" text-anchor="middle">${esc(/^\d+$/.test(p.time) ? `${p.time} s` : p.time)}</text>`).join("")}
    <path d="${path}" fill="none" stroke="#2f5fb3" stroke-width="2"/></svg>`;
  $("sweepOut").innerHTML = `<h2>Accuracy against read time <small>(one programming, read at each time with drift compensation)</small></h2>${svg}
    <table><thead><tr><th>read time</th>${points.map((p) => `<th>${esc(/^\d+$/.test(p.time) ? `${p.time} s` : p.time)}</th>`).join("")}</tr></thead><tbody><tr><td>accuracy on the chip</td>${points.map((p) => `<td>${pct(p.accuracy)}</td>`).join("")}</tr></tbody></table>`;
}
