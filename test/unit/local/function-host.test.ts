import { afterEach, describe, expect, it } from "vitest";
import { threadHost, type FunctionHost } from "@paysync/local/function-host";

let host: FunctionHost | undefined;
afterEach(async () => { await host?.stop(); host = undefined; });

describe("warming functions before the runtime reports ready", () => {
  it("resolves once each function's thread has loaded its handler", async () => {
    // Prepare
    host = threadHost();
    const loaded: string[] = [];

    // Act
    await host.warm(["Health", "Crisis"]).then(() => loaded.push("warm"));

    // Assess
    expect(loaded).toEqual(["warm"]);
  });

  it("warming nothing is immediate", async () => {
    // Prepare
    host = threadHost();

    // Act / Assess
    await expect(host.warm([])).resolves.toBeUndefined();
  });
});
