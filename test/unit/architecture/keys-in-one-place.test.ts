import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
/** The one file that spells the tables' keys. */
const KEYS_FILE = "packages/aws/src/store/keys.ts";
const SCANNED = ["packages", "functions", "stacks", "test", "scripts"];

/** Every key prefix and fixed key of the three tables (keys.ts). */
const KEY_LITERAL = /["'`](USER#|OP#|ENTITY#|HIST#|FEED#|DEVICE#|FEEDMARK#|FEEDPURGE#|PENDING#|LIMIT#|USAGE#|CONFLICT#|CUSTOMER#|PARKED#|EVENT#|AUDIT#|AUDIT_DAY#|AUDIT_SEALS#|JOB#|JOB_RUN#|SLO_PART#|E#|DEVICECOUNT["'`]|FEEDSEQ["'`]|PAYMENT_STATE["'`]|GRACE["'`]|AUDIT_DAYS["'`]|AUDIT_SEALS["'`]|USAGE_DAY["'`]|SLO_REPORT["'`]|CRISIS_DIRECTORY["'`]|CRISIS_REGION["'`])/;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mjs|js)$/.test(entry.name)) yield path;
  }
}

/** The code without its comments, so that documentation may still name a key's shape. */
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");

describe("the tables' keys", () => {
  it("are built in store/keys.ts and nowhere else (tests included)", () => {
    // Act
    const offenders: string[] = [];
    for (const top of SCANNED) {
      for (const file of sourceFiles(join(ROOT, top))) {
        const path = relative(ROOT, file);
        // keys.ts itself, its own test (which pins the format), and this file.
        if ([KEYS_FILE, "test/unit/store/keys.test.ts", "test/unit/architecture/keys-in-one-place.test.ts"].includes(path)) continue;
        withoutComments(readFileSync(file, "utf8")).split("\n").forEach((line, i) => {
          if (KEY_LITERAL.test(line)) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
        });
      }
    }

    // Assess
    expect(offenders).toEqual([]);
  });
});
