#!/usr/bin/env node
// `npm run docs:api`: the API reference in docs/api/, generated from the TSDoc of the public
// API (what `import … from "hermes-sim"` gives, lib/index.ts):
//   1. `npm run build` writes dist/lib/**/*.d.ts (tsc);
//   2. API Extractor (its bundled TypeScript, scripts/api-extractor.json) reads
//      dist/lib/index.d.ts into a doc model;
//   3. this script renders one markdown page per part of lib/ (docs/api/chip.md, …) and an
//      index (docs/api/README.md). Items tagged `@internal` are left out.
// `--check` (CI, .ci/run): render in memory and exit 1 when docs/api/ differs from it, when
// API Extractor warns (a type used by the API but not exported, malformed TSDoc), or when a
// public item or member has no TSDoc summary.
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { Extractor, ExtractorConfig } = require("@microsoft/api-extractor");
const { ApiModel } = require("@microsoft/api-extractor-model");

const root = fileURLToPath(new URL("..", import.meta.url));
const outDir = join(root, "docs/api");
const check = process.argv.includes("--check");

// The parts of lib/, in the order of docs/architecture.md (top of the stack last).
const PARTS = ["chip", "network", "cost", "study", "runtime"];
const KIND_ORDER = ["Class", "Function", "Interface", "TypeAlias", "Variable", "Enum", "Namespace"];
const KIND_NAME = { Class: "class", Function: "function", Interface: "interface", TypeAlias: "type", Variable: "constant", Enum: "enum", Namespace: "namespace" };

function build() {
  const r = spawnSync(process.execPath, [join(root, "scripts/build-dist.mjs")], { encoding: "utf8" });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    process.exit(r.status ?? 1);
  }
}

/** Runs API Extractor; returns the doc model's path and the warnings it reported. */
function extract(tmp) {
  const configPath = join(root, "scripts/api-extractor.json");
  const configObject = ExtractorConfig.loadFile(configPath);
  configObject.docModel = { ...configObject.docModel, enabled: true, apiJsonFilePath: join(tmp, "hermes-sim.api.json") };
  const config = ExtractorConfig.prepare({ configObject, configObjectFullPath: configPath, packageJsonFullPath: join(root, "package.json") });
  const warnings = [];
  const result = Extractor.invoke(config, {
    localBuild: true,
    messageCallback(message) {
      if (message.logLevel === "warning" || message.logLevel === "error") {
        const where = message.sourceFilePath ? `${message.sourceFilePath.replace(root, "")}:${message.sourceFileLine}: ` : "";
        warnings.push(`${where}${message.text} (${message.messageId})`);
      }
      message.handled = true;
    },
  });
  if (!result.succeeded && warnings.length === 0) warnings.push("API Extractor failed");
  return { apiJson: join(tmp, "hermes-sim.api.json"), warnings };
}

// ---- TSDoc → markdown ----------------------------------------------------------------

function render(node) {
  if (!node) return "";
  switch (node.kind) {
    case "PlainText": return node.text;
    case "SoftBreak": return " ";
    case "CodeSpan": return "`" + node.code + "`";
    case "EscapedText": return node.decodedText;
    case "ErrorText": return node.text;
    case "HtmlStartTag": case "HtmlEndTag": return node.emitAsHtml();
    case "FencedCode": return "\n\n```" + node.language + "\n" + node.code.replace(/\n$/, "") + "\n```\n\n";
    case "LinkTag":
      if (node.linkText) return node.linkText;
      if (node.codeDestination) return "`" + node.codeDestination.memberReferences.map((r) => r.memberIdentifier?.identifier ?? "").join(".") + "`";
      return node.urlDestination ?? "";
    case "Paragraph": return node.getChildNodes().map(render).join("").trim() + "\n\n";
    default: return node.getChildNodes ? node.getChildNodes().map(render).join("") : "";
  }
}
const text = (section) => (section ? render(section).replace(/\n{3,}/g, "\n\n").trim() : "");
const oneLine = (s) => s.replace(/\s+/g, " ").trim();

// The first sentence of a summary, for the index: a full stop ends it unless it follows an
// abbreviation the docs use (Fig., e.g., i.e., Eq., vs., Ext.).
const firstSentence = (s) => s.split(/(?<!\b(?:Fig|Figs|Eq|e\.g|i\.e|Ext|vs|cf|Tab|Sec|approx))\.\s+(?=[A-Z(`])/)[0].replace(/\.$/, "") + ".";
const isInternal = (item) => item.tsdocComment?.modifierTagSet.isInternal() ?? false;
const summaryOf = (item) => text(item.tsdocComment?.summarySection);
const anchor = (name) => name.toLowerCase().replace(/[^a-z0-9_-]/g, "");
const partOf = (item) => /dist\/lib\/([^/]+)\//.exec(item.fileUrlPath ?? "")?.[1] ?? "runtime";
const nameOf = (item) => item.displayName.replace(/_\d+$/, "");

function signature(item) {
  const s = (item.excerpt?.text ?? "").replace(/^export declare /, "").replace(/^export /, "").trim();
  return s.length > 1200 ? s.slice(0, 1200) + " …" : s;
}

function blocks(comment) {
  const out = [];
  if (!comment) return out;
  const params = comment.params.blocks.map((b) => `- \`${b.parameterName}\` — ${oneLine(text(b.content))}`);
  if (params.length) out.push("Parameters:\n\n" + params.join("\n"));
  if (comment.returnsBlock) out.push("Returns: " + oneLine(text(comment.returnsBlock.content)));
  for (const b of comment.customBlocks) {
    const tag = b.blockTag.tagName;
    const body = oneLine(text(b.content));
    if (tag === "@defaultValue") out.push("Default: " + body);
    else if (tag === "@throws") out.push("Throws: " + body);
    else if (tag === "@example") out.push("Example:\n\n" + text(b.content));
    else out.push(`${tag.slice(1)}: ${body}`);
  }
  if (comment.remarksBlock) out.push(text(comment.remarksBlock.content));
  if (comment.deprecatedBlock) out.push("**Deprecated.** " + oneLine(text(comment.deprecatedBlock.content)));
  return out;
}

function memberLine(m) {
  const c = m.tsdocComment;
  const extra = blocks(c).map((b) => b.replace(/\n+/g, " "));
  const desc = [oneLine(summaryOf(m)), ...extra].filter(Boolean).join(" ");
  return `- \`${oneLine(signature(m))}\`${desc ? " — " + desc : ""}`;
}

// Links to the exported types an item's signature (and its members') names, so a reader can
// follow MapOptions → Mapping → LayerPlacement across pages. Filled by renderDocs.
const typePage = new Map();
function typeLinks(item, part) {
  const names = new Set();
  for (const it of [item, ...(item.members ?? [])]) {
    for (const t of it.excerptTokens ?? []) if (t.kind === "Reference" && typePage.has(t.text) && t.text !== nameOf(item)) names.add(t.text);
  }
  return [...names].sort().map((n) => `[${n}](${typePage.get(n) === part ? "" : typePage.get(n) + ".md"}#${anchor(n)})`).join(", ");
}

function renderItem(item) {
  const lines = [`### ${nameOf(item)}`, "", `*${KIND_NAME[item.kind] ?? item.kind}*`, ""];
  const sum = summaryOf(item);
  if (sum) lines.push(sum, "");
  lines.push("```ts", signature(item), "```", "");
  for (const b of blocks(item.tsdocComment)) lines.push(b, "");
  const members = (item.members ?? []).filter((m) => !isInternal(m));
  if (members.length) {
    lines.push(item.kind === "Class" ? "Members:" : "Properties:", "");
    for (const m of members) lines.push(memberLine(m));
    lines.push("");
  }
  const links = typeLinks(item, partOf(item));
  if (links) lines.push("See: " + links, "");
  return lines.join("\n");
}

function partHeader(part) {
  const src = readFileSync(join(root, "lib", part, "index.ts"), "utf8").split("\n");
  const comment = [];
  for (const l of src) {
    if (!l.startsWith("//")) break;
    comment.push(l.replace(/^\/\/ ?/, ""));
  }
  return comment.join("\n").replace(/^lib\/[a-z]+ — /, "");
}

function renderDocs(apiJson) {
  const pkg = new ApiModel().loadPackage(apiJson);
  const items = pkg.entryPoints[0].members.filter((i) => !isInternal(i));
  const undocumented = [];
  for (const i of items) {
    if (!summaryOf(i)) undocumented.push(`${nameOf(i)} (${i.fileUrlPath})`);
    for (const m of i.members ?? []) if (!isInternal(m) && !summaryOf(m)) undocumented.push(`${nameOf(i)}.${m.displayName} (${i.fileUrlPath})`);
  }
  for (const i of items) typePage.set(nameOf(i), partOf(i));
  const files = new Map();
  const byPart = new Map(PARTS.map((p) => [p, []]));
  for (const i of items) {
    const p = partOf(i);
    if (!byPart.has(p)) byPart.set(p, []);
    byPart.get(p).push(i);
  }
  const sortKey = (i) => `${KIND_ORDER.indexOf(i.kind)}`.padStart(2, "0") + nameOf(i).toLowerCase();
  const index = [
    "<!-- Generated by `npm run docs:api` (scripts/api-docs.mjs) from the TSDoc in lib/. Do not edit. -->",
    "# API reference",
    "",
    "Everything `import { … } from \"hermes-sim\"` gives, by part of `lib/` (see",
    "[architecture](../architecture.md)). Units are in each item's description. The",
    "[library guide](../library.md) shows how the pieces fit together.",
    "",
  ];
  for (const [part, list] of byPart) {
    if (list.length === 0) continue;
    list.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    const page = [
      "<!-- Generated by `npm run docs:api` (scripts/api-docs.mjs) from the TSDoc in lib/. Do not edit. -->",
      `# lib/${part}`,
      "",
      partHeader(part),
      "",
      "[All parts](README.md)",
      "",
      ...list.map(renderItem),
    ];
    files.set(`${part}.md`, page.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n");
    index.push(`## [lib/${part}](${part}.md)`, "", "| Name | Kind | What it is |", "|---|---|---|");
    for (const i of list) {
      const first = firstSentence(oneLine(summaryOf(i))).replace(/\|/g, "\\|");
      index.push(`| [${nameOf(i)}](${part}.md#${anchor(nameOf(i))}) | ${KIND_NAME[i.kind] ?? i.kind} | ${first} |`);
    }
    index.push("");
  }
  files.set("README.md", index.join("\n").trimEnd() + "\n");
  return { files, undocumented };
}

build();
const tmp = mkdtempSync(join(tmpdir(), "hermes-api-"));
try {
  const { apiJson, warnings } = extract(tmp);
  const { files, undocumented } = renderDocs(apiJson);
  let failed = false;
  if (warnings.length) {
    failed = check;
    console.error(`api-docs: ${warnings.length} API Extractor warning(s):\n  ${warnings.join("\n  ")}`);
  }
  if (undocumented.length) {
    failed = check;
    console.error(`api-docs: ${undocumented.length} public item(s) without TSDoc:\n  ${undocumented.join("\n  ")}`);
  }
  if (check) {
    const existing = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith(".md")) : [];
    const stale = [...files].filter(([f, body]) => !existsSync(join(outDir, f)) || readFileSync(join(outDir, f), "utf8") !== body).map(([f]) => f);
    const extra = existing.filter((f) => !files.has(f));
    if (stale.length || extra.length) {
      failed = true;
      console.error(`api-docs: docs/api/ is not current (${[...stale, ...extra.map((f) => f + " (not generated)")].join(", ")}): run \`npm run docs:api\` and commit it`);
    }
    if (failed) process.exit(1);
    console.log(`api-docs: docs/api/ is current (${files.size} pages)`);
  } else {
    mkdirSync(outDir, { recursive: true });
    for (const f of readdirSync(outDir)) if (f.endsWith(".md") && !files.has(f)) rmSync(join(outDir, f));
    for (const [f, body] of files) {
      const t = join(outDir, `.${f}.tmp`);
      writeFileSync(t, body);
      renameSync(t, join(outDir, f));
    }
    console.log(`api-docs: wrote ${files.size} pages to docs/api/`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

