import { readFileSync } from "node:fs";
import { CliError } from "./service.js";
import type { Context, Output } from "./commands.js";

/**
 * `npx paysync crisis-directory show | set FILE`: the operator's side of the crisis directory
 * (docs/CRISIS.md), through the admin route with the ops token (the admin token of the data dir,
 * as `/ops` takes it). `set` sends the file as it is: the service validates it (a bad file is
 * refused with the zod issues and changes nothing) and answers with the new version.
 */
interface StoredVersion {
  version: number;
  updatedAt: string;
  directory: { regions: Record<string, { name: string; call?: string; text?: { number: string; message?: string } }[]>; fallback: unknown[] };
}

function versionLines(stored: StoredVersion): string[] {
  const regions = Object.entries(stored.directory.regions);
  return [
    `crisis directory version ${stored.version} (${stored.updatedAt}): ${regions.length} regions, ${stored.directory.fallback.length} fallback line(s)`,
    ...regions.map(([region, lines]) => `  ${region}: ${lines.map((line) => [line.name, line.call && `call ${line.call}`, line.text && `text ${line.text.message ? `${line.text.message} to ` : ""}${line.text.number}`].filter(Boolean).join(" — ")).join("; ")}`),
  ];
}

function issuesOf(json: unknown): string[] {
  const details = (json as { error?: { details?: { path?: unknown[]; message?: string }[] } } | undefined)?.error?.details;
  return Array.isArray(details) ? details.slice(0, 20).map((issue) => `  ${(issue.path ?? []).join(".") || "(body)"}: ${issue.message ?? ""}`) : [];
}

export async function crisisDirectory(ctx: Context, action: string | undefined): Promise<Output> {
  if (action === "show") {
    const answer = await ctx.client.admin("GET", "/admin/crisis-directory");
    if (answer.status !== 200) throw new CliError(`GET /admin/crisis-directory: HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
    return { data: answer.json, lines: versionLines(answer.json as StoredVersion) };
  }
  if (action === "set") {
    const file = ctx.positionals[0];
    if (file === undefined) throw new CliError("usage: paysync crisis-directory set FILE (a JSON directory, see docs/CRISIS.md)", 2);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`, 2);
    }
    const answer = await ctx.client.admin("PUT", "/admin/crisis-directory", text);
    if (answer.status !== 200) {
      const message = (answer.json as { error?: { message?: string } } | undefined)?.error?.message ?? answer.text.slice(0, 200);
      throw new CliError([`the directory was refused (HTTP ${answer.status}): ${message}`, ...issuesOf(answer.json)].join("\n"));
    }
    return { data: answer.json, lines: ["stored; every device gets it on its next pull", ...versionLines(answer.json as StoredVersion)] };
  }
  throw new CliError("usage: paysync crisis-directory show | set FILE", 2);
}
