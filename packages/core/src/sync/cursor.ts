/**
 * Pull cursors and the feed-paging rules (SPEC.md section 4). A cursor is opaque to devices:
 * base64url of `v1.<seq>`, the last feed sequence number the device has seen.
 *
 * @example
 * const afterSeq = decodeCursor(query.cursor); // 0 when absent
 * encodeCursor(42); // "djEuNDI"
 */
import { ValidationError } from "../errors.js";

const PREFIX = "v1.";

export function encodeCursor(seq: number): string {
  return Buffer.from(`${PREFIX}${seq}`, "utf8").toString("base64url");
}

/** The sequence number a cursor stands for; absent means "from the beginning". */
export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^v1\.(\d{1,15})$/.exec(text);
  if (!match?.[1]) throw new ValidationError("Invalid cursor", [{ path: ["cursor"], code: "custom", message: "not a cursor this API issued" }]);
  return Number(match[1]);
}
