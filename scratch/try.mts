import { readModel } from "../lib/network/onnx.ts";
import { mapNetwork } from "../lib/network/mapper.ts";
for (const f of process.argv.slice(2)) {
  try {
    const r = await readModel(f);
    const m = mapNetwork(r.net);
    console.log(f, JSON.stringify(r.report), r.net.nodes.map((n) => n.op).join(" "), "head", r.head, "cores", m.cores, "host", m.host.length);
  } catch (e) { console.log(f, "ERR", (e as Error).message.slice(0, 400)); }
}
