/**
 * Reading the members of a KMS request body, with the checks AWS applies from its API model
 * (required members, lengths, ranges) before it looks at any key.
 */
import { invalid } from "./errors.js";

export type Input = Record<string, unknown>;

/** One operation: the request body and the Region the client signed for, to the response body. */
export type Operation = (input: Input, region: string) => object;

export function requiredString(input: Input, member: string): string {
  const value = input[member];
  if (value === undefined || value === null) throw invalid.missing(member);
  if (typeof value !== "string") throw invalid.value(`${member} must be a string`);
  if (value === "") throw invalid.tooShort(member, 1);
  return value;
}

export function optionalString(input: Input, member: string): string | undefined {
  return input[member] === undefined || input[member] === null ? undefined : requiredString(input, member);
}

/** A base64 blob member, `min`..`max` bytes once decoded. */
export function requiredBlob(input: Input, member: string, max: number, min = 1): Buffer {
  const value = input[member];
  if (value === undefined || value === null) throw invalid.missing(member);
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw invalid.value(`${member} must be base64`);
  const bytes = Buffer.from(value, "base64");
  if (bytes.length < min) throw invalid.tooShort(member, min);
  if (bytes.length > max) throw invalid.tooLong(member, max);
  return bytes;
}

/** An integer member within `min`..`max`; `undefined` when absent. */
export function optionalInteger(input: Input, member: string, min: number, max: number): number | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) throw invalid.value(`${member} must be an integer`);
  if (value < min) throw invalid.belowMinimum(member, value, min);
  if (value > max) throw invalid.aboveMaximum(member, value, max);
  return value;
}

/** A member that must be one of `allowed`, or absent (then `fallback`). */
export function oneOf<T extends string>(input: Input, member: string, allowed: readonly T[], fallback: T): T {
  const value = input[member] ?? fallback;
  if (!allowed.includes(value as T)) throw invalid.notOneOf(member, value, allowed);
  return value as T;
}

/** An encryption context as canonical bytes: entries sorted by key, so their order never matters. */
export function canonicalContext(input: Input, member = "EncryptionContext"): Buffer {
  const context = input[member] ?? {};
  if (typeof context !== "object" || context === null || Array.isArray(context) || Object.values(context).some((v) => typeof v !== "string")) {
    throw invalid.value(`${member} must map strings to strings`);
  }
  return Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
