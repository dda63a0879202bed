// piscina in the browser bundle (web/build.mjs maps it here): the page runs tasks on its own
// Web Workers (web/src/pool.ts, installed with lib/runtime/pool.ts setTaskRunner), so the
// Piscina pool is never created; if it is, the message says so.

export class Piscina {
  constructor() {
    throw new Error("Piscina is not available in the browser: tasks run on the page's Web Workers (setTaskRunner)");
  }
}
export const workerData = undefined;
export default Piscina;
