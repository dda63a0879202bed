// lib/report — the face: HTML + SVG report pages (html.ts writes a folder atomically; svg.ts
// draws; one file per figure). May import every part below the CLI; only lib/cli imports it.

export { writeReport } from "./html.ts";
