import { appendFileSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Vitest setup file for the integration project: handlers that tests call in-process log to
 * this worker's stdout/stderr; a copy goes to `.test-output/in-process.log`, which the
 * suite-wide PII check reads along with the runtime's own `runtime.log`.
 */
const file = join(resolve(import.meta.dirname, "../.."), ".test-output", "in-process.log");

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    try {
      appendFileSync(file, typeof chunk === "string" ? chunk : Buffer.from(chunk));
    } catch {
      // No .test-output directory yet: nothing to copy into.
    }
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
