import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findLeaksInLogs } from "../../helpers/pii-check.js";
import { PII } from "../../helpers/pii-fixtures.js";

function logFile(lines: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), "pii-check-")), "runtime.log");
  writeFileSync(file, lines.join("\n"));
  return file;
}

describe("the suite-wide PII check", () => {
  it.each<[string, string]>([
    ["a known email", `{"level":"INFO","message":"linked ${PII.email}"}`],
    ["a raw user id", `{"userId":"${PII.userId}"}`],
    ["a contact name", `{"contacts":[{"name":"${PII.contactName}"}]}`],
    ["any Stripe customer id", `{"message":"no user for cus_Q8x2LmZ9"}`],
    ["any email address", `{"message":"mail to someone.else@clinic.org failed"}`],
  ])("finds %s in the log and says on which line", (_name, line) => {
    // Prepare
    const file = logFile(["paysync: starting", line]);

    // Act
    const leaks = findLeaksInLogs([file], Object.values(PII));

    // Assess
    expect(leaks.length).toBeGreaterThanOrEqual(1);
    expect(leaks[0]!.where).toBe("runtime.log:2");
  });

  it("passes a log of codes, pseudonymous keys and redacted values", () => {
    // Prepare
    const file = logFile([
      `{"level":"INFO","message":"crisis call","userKey":"u_${"a".repeat(32)}","route":"activate","latencyMs":12.1}`,
      `{"level":"WARN","message":"no user for cus_[redacted]","contacts":"[redacted]","email":"[redacted]"}`,
    ]);

    // Act
    const leaks = findLeaksInLogs([file, join(tmpdir(), "does-not-exist.log")], Object.values(PII));

    // Assess
    expect(leaks).toEqual([]);
  });
});
