// A worker's infer jobs (see lib/study/queue/index.ts): images of a test set through a model
// on a programmed chip at one read point, with the functions of a local run
// (lib/study/model-run.ts inferImages). What jobs share is kept across jobs: the model
// (fetched once, hash checked, read and mapped), the images file (parsed once; images are
// transformed per job), the functional fit, and programmed chips, one per (model hash, chip
// seed, scheme, fidelity) with their reads per (t, draw, fit): consecutive jobs of one run or
// one chip cost only their images.

import type { Redis } from "ioredis";
import { Chip } from "../../chip/chip.ts";
import type { ChipAtTime } from "../../chip/analog.ts";
import type { FunctionalFit } from "../../chip/functional-fit.ts";
import { canonicalJson } from "../checkpoint.ts";
import { type Network } from "../../network/graph.ts";
import { outputShape } from "../../network/graph-shapes.ts";
import { MODEL_REPLICAS, mapNetwork, type Mapping } from "../../network/mapper.ts";
import { assertFits } from "../../network/needs.ts";
import { readModel } from "../../network/onnx.ts";
import { programNetwork } from "../../network/run.ts";
import { prepareImages, type PreparedImages } from "../../network/test-set.ts";
import { inferImages, readAt } from "../model-run.ts";
import { BlobError, getBlob } from "./blobs.ts";
import { RefusedJob, type InferJobData, type InferResult } from "./jobs.ts";

interface LoadedModel {
  net: Network;
  mapping: Mapping;
  classes: number;
}

/** What a job needs besides the chip, fetched and checked before it starts. */
export interface InferInputs {
  model: LoadedModel;
  images: PreparedImages;
  fit?: FunctionalFit;
}

interface AtEntry {
  at: ChipAtTime;
  users: number;
  used: number;
}

interface ChipEntry {
  ready: Promise<Chip>;
  users: number;
  used: number;
  ats: Map<string, AtEntry>;
}

/** A small map of promises by key, keeping the `max` most recently used; failures are not kept. */
class Memo<V> {
  private readonly m = new Map<string, Promise<V>>();
  constructor(private readonly max: number) {}
  get(key: string, make: () => Promise<V>): Promise<V> {
    let p = this.m.get(key);
    if (p) this.m.delete(key);
    else {
      p = make();
      p.catch(() => {
        if (this.m.get(key) === p) this.m.delete(key);
      });
    }
    this.m.set(key, p);
    while (this.m.size > this.max) this.m.delete(this.m.keys().next().value!);
    return p;
  }
}

/** Refuse a job whose inputs cannot be used (a blob that does not match, a model that does not load). */
async function refuseOn<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof BlobError) throw new RefusedJob(e.message);
    throw new RefusedJob(`${what}: ${(e as Error).message.split("\n")[0]}`);
  }
}

export class InferRunner {
  private readonly models = new Memo<LoadedModel>(2);
  private readonly imageSets = new Memo<PreparedImages>(2);
  private readonly fits = new Memo<FunctionalFit>(4);
  private readonly chips = new Map<string, ChipEntry>();
  private clock = 0;

  constructor(
    private readonly client: Redis,
    private readonly threads: number,
    /** Programmed chips kept (at least the jobs in flight). */
    private readonly maxChips: number,
  ) {}

  /** Fetch (once) and check what the job names; a RefusedJob if anything does not fit. */
  async inputs(d: InferJobData): Promise<InferInputs> {
    const replicas = d.chip.replicas ?? MODEL_REPLICAS;
    const hostActivations = d.chip.hostActivations === true;
    const model = await this.models.get(`${d.model}/${replicas}/${hostActivations}`, () =>
      refuseOn(`model ${d.model.slice(0, 12)}`, async () => {
        const bytes = await getBlob(this.client, d.model, "model");
        const { net } = await readModel(bytes, `model ${d.model.slice(0, 12)}`, { hostActivations });
        assertFits(net, `model ${d.model.slice(0, 12)}`);
        return { net, mapping: mapNetwork(net, { replicas }), classes: outputShape(net).reduce((a, b) => a * b, 1) };
      }),
    );
    const { sha256, ...transform } = d.images;
    const images = await this.imageSets.get(`${sha256}/${canonicalJson(transform)}/${model.net.inputShape.join("x")}`, () =>
      refuseOn(`images ${sha256.slice(0, 12)}`, async () => {
        const bytes = await getBlob(this.client, sha256, "images");
        return prepareImages({ images: { name: `images ${sha256.slice(0, 12)}`, bytes }, ...transform }, model.net.inputShape);
      }),
    );
    if (d.first + d.count > images.count) throw new RefusedJob(`images ${d.first}..${d.first + d.count - 1} asked, the images file holds ${images.count}`);
    const fitSha = d.chip.fitSha256;
    const fit = fitSha
      ? await this.fits.get(fitSha, () => refuseOn(`functional fit ${fitSha.slice(0, 12)}`, async () => JSON.parse((await getBlob(this.client, fitSha, "functional fit")).toString("utf8")) as FunctionalFit))
      : undefined;
    return { model, images, ...(fit ? { fit } : {}) };
  }

  /** The job's INT8 outputs. */
  async run(d: InferJobData, x: InferInputs): Promise<InferResult> {
    const key = `${d.model}/${d.chip.seed}/${d.chip.scheme}/${d.chip.fidelity}/${d.chip.replicas ?? MODEL_REPLICAS}/${d.chip.hostActivations === true}`;
    const { net, mapping } = x.model;
    const e = this.acquire(key, async () => {
      const chip = Chip.create({ seed: BigInt(d.chip.seed), fidelity: d.chip.fidelity });
      try {
        await programNetwork(chip, net, mapping, d.chip.scheme, this.threads);
      } catch (err) {
        chip.dispose();
        throw err;
      }
      return chip;
    });
    let a: AtEntry | undefined;
    try {
      const chip = await e.ready;
      const point = { t: d.t, draw: d.draw, ...(x.fit ? { fit: x.fit } : {}) };
      const atKey = `${d.t}/${d.draw}/${d.chip.fitSha256 ?? ""}`;
      a = e.ats.get(atKey);
      if (!a) {
        for (const [k, old] of e.ats) if (old.users === 0 && e.ats.size >= 2) (old.at.dispose(), e.ats.delete(k));
        a = { at: readAt(chip, point), users: 0, used: 0 };
        e.ats.set(atKey, a);
      }
      a.users++;
      a.used = ++this.clock;
      const xs = Array.from({ length: d.count }, (_, i) => x.images.image(d.first + i));
      const out = await inferImages(chip, { net, mapping, scales: d.scales }, xs, { ...point, first: d.first, threads: this.threads, at: a.at });
      if (out.some((v) => v.length !== x.model.classes)) throw new Error(`outputs of ${out[0]?.length} values for a model of ${x.model.classes} classes`);
      return { count: d.count, classes: x.model.classes, outputs: Buffer.concat(out.map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength))).toString("base64") };
    } finally {
      if (a) a.users--;
      e.users--;
    }
  }

  private acquire(key: string, make: () => Promise<Chip>): ChipEntry {
    let e = this.chips.get(key);
    if (!e) {
      this.evict(this.maxChips - 1);
      const entry: ChipEntry = { ready: make(), users: 0, used: 0, ats: new Map() };
      entry.ready.catch(() => {
        if (this.chips.get(key) === entry) this.chips.delete(key);
      });
      this.chips.set(key, entry);
      e = entry;
    }
    e.users++;
    e.used = ++this.clock;
    return e;
  }

  /** Dispose of the least recently used idle chips until at most `keep` remain. */
  private evict(keep: number): void {
    while (this.chips.size > keep) {
      const idle = [...this.chips].filter(([, e]) => e.users === 0).sort((a, b) => a[1].used - b[1].used)[0];
      if (!idle) return;
      this.chips.delete(idle[0]);
      void idle[1].ready.then(
        (chip) => {
          for (const a of idle[1].ats.values()) a.at.dispose();
          chip.dispose();
        },
        () => {},
      );
    }
  }

  /** Give every chip back (the worker is stopping). */
  async dispose(): Promise<void> {
    this.evict(0);
  }
}
