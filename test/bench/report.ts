import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import type { Figure } from "./stats.js";

const DOCS = resolve(import.meta.dirname, "../../docs");

export interface PriorityLatency {
  priority: number;
  targetMs: number | null;
  p50: number;
  p99: number;
  samples: number;
}

/** An SVG bar chart of apply latency (p50 and p99) per priority under load, with targets. */
export function latencyChart(rows: PriorityLatency[]): string {
  const width = 640;
  const height = 320;
  const left = 70;
  const bottom = 40;
  const plotH = height - bottom - 30;
  const max = Math.max(1, ...rows.flatMap((r) => [r.p99, r.targetMs ?? 0]));
  const logMax = Math.log10(max * 1.5);
  const y = (ms: number) => 30 + plotH - (Math.log10(Math.max(1, ms)) / logMax) * plotH;
  const slot = (width - left - 20) / Math.max(1, rows.length);
  const bars = rows.map((r, i) => {
    const x = left + i * slot + slot * 0.15;
    const w = slot * 0.32;
    const target = r.targetMs === null ? "" : `<line x1="${x - 4}" x2="${x + 2 * w + 4}" y1="${y(r.targetMs)}" y2="${y(r.targetMs)}" stroke="#d33" stroke-width="2" stroke-dasharray="4 2"/>`;
    return `<rect x="${x}" y="${y(r.p50)}" width="${w}" height="${30 + plotH - y(r.p50)}" fill="#4a7"/>` +
      `<rect x="${x + w}" y="${y(r.p99)}" width="${w}" height="${30 + plotH - y(r.p99)}" fill="#27a"/>` + target +
      `<text x="${x + w}" y="${height - bottom + 16}" font-size="12" text-anchor="middle">p${r.priority}</text>`;
  }).join("\n");
  const ticks = [1, 10, 100, 1_000, 10_000, 60_000].filter((t) => t <= max * 1.5)
    .map((t) => `<line x1="${left - 4}" x2="${width - 20}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${left - 8}" y="${y(t) + 4}" font-size="11" text-anchor="end">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`)
    .join("\n");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<text x="${width / 2}" y="18" font-size="14" text-anchor="middle">Apply latency by priority under load (log scale)</text>
${ticks}
${bars}
<rect x="${left}" y="${height - 16}" width="10" height="10" fill="#4a7"/><text x="${left + 14}" y="${height - 7}" font-size="11">p50</text>
<rect x="${left + 50}" y="${height - 16}" width="10" height="10" fill="#27a"/><text x="${left + 64}" y="${height - 7}" font-size="11">p99</text>
<line x1="${left + 100}" x2="${left + 120}" y1="${height - 11}" y2="${height - 11}" stroke="#d33" stroke-width="2" stroke-dasharray="4 2"/><text x="${left + 124}" y="${height - 7}" font-size="11">SPEC target</text>
</svg>
`;
}

export function machine() {
  return {
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? "unknown"}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export const fmt = (f: Figure) => `${f.median} / ${f.p99} ${f.unit}`;

export function writeOutputs(markdown: string, json: unknown, svg: string): void {
  writeFileSync(resolve(DOCS, "BENCHMARKS.md"), markdown);
  writeFileSync(resolve(DOCS, "benchmarks.json"), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(resolve(DOCS, "bench-latency.svg"), svg);
}
