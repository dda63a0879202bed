// Piscina worker entry: TypeScript through tsx's loader, then the task dispatcher.
import { register } from "tsx/esm/api";

register();
const mod = await import("./kernels.ts");
export default mod.default;
