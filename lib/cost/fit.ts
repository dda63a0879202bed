// Re-derives every fitted COST_PARAMETERS value from the Table I entries it names, so the
// stored (rounded) values can be checked against the fit (test/lib/cost.test.ts).
// Each step uses only the entries listed in that parameter's `fittedTo`.

import { ARCH } from "../chip/config.ts";
import { layerStepCost, phasesOf, pwmWindowNs } from "./model.ts";
import { COST_PARAMETERS as P, paperTable1Row, type CostParameterName } from "./params.ts";
import { TABLE1_USE_CASES } from "./table1.ts";

const CELLS = ARCH.crossbarRows.value * ARCH.crossbarCols.value;

function useCase(workload: keyof typeof TABLE1_USE_CASES) {
  const uc = TABLE1_USE_CASES[workload];
  const cores = uc.chains * uc.chainLength;
  const cellsUsed = cores * uc.inputs * uc.outputs;
  return { ...uc, cores, ops: 2 * cellsUsed, coreUtil: cellsUsed / CELLS, values: cores * uc.outputs };
}

/** Solve the 3 × 3 linear system A x = b (Gaussian elimination with partial pivoting). */
function solve3(a: number[][], b: number[]): number[] {
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < 3; c++) {
    let piv = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[piv]![c]!)) piv = r;
    [m[c], m[piv]] = [m[piv]!, m[c]!];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k < 4; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return [0, 1, 2].map((i) => m[i]![3]! / m[i]![i]!);
}

/** The fitted parameters, unrounded, recomputed from PAPER_TABLE1. */
export function fitCostParameters(): Partial<Record<CostParameterName, number>> {
  // 1. MVM latency = phases × (PWM window + a) + b, from the two MVM latencies.
  const w = pwmWindowNs();
  const t1 = paperTable1Row("mvm", "1-phase").latencyNs;
  const t4 = paperTable1Row("mvm", "4-phase").latencyNs;
  const phaseOverhead = (t4 - t1) / (phasesOf("4-phase") - phasesOf("1-phase")) - w;
  const fixedOverhead = t1 - (w + phaseOverhead);
  const mvmNs1 = w + phaseOverhead + fixedOverhead;
  const mvmNs = (mode: "1-phase" | "4-phase") => phasesOf(mode) * (w + phaseOverhead) + fixedOverhead;

  // 2. Layer latency − MVM latency = fill + hops × hop + (parameter-free stream and drain),
  //    from the two 1-phase layer latencies.
  const lin = (workload: "resnet9-layer" | "lstm-timestep") => {
    const uc = useCase(workload);
    const step = layerStepCost({ ...uc, mode: "1-phase" });
    const fixedPart = step.digitalLatencyNs - P.ldpuFillNs.value - step.hopsPerChain * P.digitalHopNs.value;
    return { hops: step.hopsPerChain, fixedPart, rhs: paperTable1Row(workload, "1-phase").latencyNs - mvmNs1 - fixedPart };
  };
  const r = lin("resnet9-layer");
  const l = lin("lstm-timestep");
  const hop = (r.rhs - l.rhs) / (r.hops - l.hops);
  const fill = r.rhs - r.hops * hop;

  // 3. MVM power = chip + (cores × utilisation) × core, from the MVM and ResNet 1-phase TOPS/W.
  const mvmPower = (workload: "mvm" | "resnet9-layer") => {
    const uc = useCase(workload);
    const energyNj = uc.ops / paperTable1Row(workload, "1-phase").topsPerW / 1e3;
    return { x: uc.coreUtil, y: energyNj / mvmNs1 };
  };
  const pm = mvmPower("mvm");
  const pr = mvmPower("resnet9-layer");
  const corePower = (pm.y - pr.y) / (pm.x - pr.x);
  const chipPower = pr.y - pr.x * corePower;

  // 4. Layer energy − model MVM energy = (chip + cores × core) × latency + values × e, least
  //    squares in relative error over the four layer energies.
  const rows: { a: number[]; y: number; wgt: number }[] = [];
  for (const workload of ["resnet9-layer", "lstm-timestep"] as const) {
    const uc = useCase(workload);
    for (const mode of ["1-phase", "4-phase"] as const) {
      const tMvm = mvmNs(mode);
      const d = workload === "resnet9-layer" ? r : l;
      const latency = tMvm + fill + d.hops * hop + d.fixedPart;
      const eMvm = (chipPower + uc.coreUtil * corePower) * tMvm;
      const eTotal = paperTable1Row(workload, mode).energyUj * 1e3;
      rows.push({ a: [latency, uc.cores * latency, uc.values * 1e-3], y: eTotal - eMvm, wgt: 1 / eTotal });
    }
  }
  const ata = [0, 1, 2].map((i) => [0, 1, 2].map((j) => rows.reduce((s, q) => s + q.wgt ** 2 * q.a[i]! * q.a[j]!, 0)));
  const atb = [0, 1, 2].map((i) => rows.reduce((s, q) => s + q.wgt ** 2 * q.a[i]! * q.y, 0));
  const [digitalChip, digitalCore, perValuePj] = solve3(ata, atb);

  return {
    mvmPhaseOverheadNs: phaseOverhead,
    mvmFixedOverheadNs: fixedOverhead,
    digitalHopNs: hop,
    ldpuFillNs: fill,
    mvmCorePowerW: corePower,
    mvmChipPowerW: chipPower,
    digitalChipPowerW: digitalChip!,
    digitalCorePowerW: digitalCore!,
    digitalEnergyPerValuePj: perValuePj!,
  };
}
