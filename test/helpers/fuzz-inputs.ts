import { request as httpRequest } from "node:http";
import fc from "fast-check";

/**
 * Bad requests for the fault suite's fuzz test (`test/integration/fuzz.test.ts`): generators of
 * malformed bodies, ids, headers and query strings, and a raw HTTP client that sends any bytes
 * (fetch refuses a body on GET and rewrites odd paths; API Gateway accepts both).
 *
 * @example
 * fc.assert(fc.asyncProperty(mutated(validBody), async ({ value }) => { ... }));
 */
export type Path = Array<string | number>;

export interface Labelled<T> {
  label: string;
  value: T;
}

/** A body as bytes on the wire, with the content type it is sent with (none when undefined). */
export interface WireBody {
  label: string;
  body: string | Buffer;
  contentType?: string | undefined;
}

/** The fuzz target: strings at least this long (bytes). */
export const HUGE_STRING_BYTES = 300 * 1024;
/** Over the gateway's 6 MiB request limit (Lambda's synchronous payload limit). */
export const OVERSIZED_BODY_BYTES = 7 * 1024 * 1024;
/** Nesting depth of the deep-nesting cases: far past where recursive code runs out of stack. */
export const DEEP = { min: 1_000, max: 50_000 } as const;

const isContainer = (value: unknown): value is Record<string, unknown> | unknown[] => typeof value === "object" && value !== null;
const isPlainObject = (value: unknown): value is Record<string, unknown> => isContainer(value) && !Array.isArray(value);

/** Every location inside `value` (the root excluded), containers and leaves alike. */
export function paths(value: unknown, prefix: Path = []): Path[] {
  if (!isContainer(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    return [path, ...paths(child, path)];
  });
}

export function valueAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((current, key) => (isContainer(current) ? (current as Record<string, unknown>)[key] : undefined), value);
}

function edit(value: unknown, path: Path, change: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = structuredClone(value);
  if (path.length === 0) return copy;
  const parent = valueAt(copy, path.slice(0, -1));
  if (isContainer(parent)) change(parent as Record<string | number, unknown>, path.at(-1)!);
  return copy;
}

export const setAt = (value: unknown, path: Path, replacement: unknown): unknown =>
  path.length === 0 ? replacement : edit(value, path, (parent, key) => { parent[key] = replacement; });

export const deleteAt = (value: unknown, path: Path): unknown =>
  edit(value, path, (parent, key) => {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  });

/**
 * JSON text of `value` with the value at `path` replaced by raw JSON text. Deep nesting is
 * spliced in as text: building it as an object and stringifying it would itself recurse.
 */
export function spliceAt(value: unknown, path: Path, rawJson: string): string {
  const mark = `__splice_${Math.random().toString(36).slice(2)}__`;
  // A function replacement: `$` in the spliced text must not be read as a pattern.
  return JSON.stringify(setAt(value, path, mark)).replace(JSON.stringify(mark), () => rawJson);
}

export const describePath = (path: Path) => (path.length === 0 ? "<root>" : path.join("."));
const preview = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…(${text.length})` : text;
};

/** JSON text `depth` levels deep: arrays, objects, or both alternating. */
export function deepJson(depth: number, kind: "array" | "object" | "mixed"): string {
  const open = (i: number) => (kind === "array" || (kind === "mixed" && i % 2 === 0) ? "[" : '{"a":');
  const close = (i: number) => (kind === "array" || (kind === "mixed" && i % 2 === 0) ? "]" : "}");
  let head = "";
  let tail = "";
  for (let i = 0; i < depth; i++) { head += open(i); tail = close(i) + tail; }
  return `${head}0${tail}`;
}

export const deepValue: fc.Arbitrary<Labelled<string>> = fc
  .record({ depth: fc.integer(DEEP), kind: fc.constantFrom("array" as const, "object" as const, "mixed" as const) })
  .map(({ depth, kind }) => ({ label: `${kind} nested ${depth} deep`, value: deepJson(depth, kind) }));

/** A string of at least {@link HUGE_STRING_BYTES} bytes, of one repeated unit (ASCII, multi-byte, escapes). */
export const hugeString: fc.Arbitrary<Labelled<string>> = fc
  .record({ bytes: fc.integer({ min: HUGE_STRING_BYTES, max: 3 * HUGE_STRING_BYTES }), unit: fc.constantFrom("x", "é", "🙂", "\u0000", '"', "\\", "a-1_") })
  .map(({ bytes, unit }) => ({ label: `${bytes} bytes of ${JSON.stringify(unit)}`, value: unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))) }));

/** A value of some type, usually not the one a field expects (the caller's oracle drops the rest). */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.constantFrom<unknown>(
    "", " ", "../..", "a".repeat(129), "2024-13-45T99:99:99Z", "yesterday", "NaN", -1, 0, 1.5, 1e308, -1e308,
    "<script>", "\u0000", "é", "🙂", "DROP TABLE", "null", "true", "10", [], {}, [null], { $ne: null },
  ),
);

/**
 * The value as the server will see it once sent as JSON (`NaN` and `Infinity` become `null`,
 * `-0` becomes `0`): what a route's oracle must judge, or it would judge another request.
 */
const asSent = ({ label, value }: Labelled<unknown>): Labelled<unknown> => ({ label, value: JSON.parse(JSON.stringify(value)) as unknown });

/** One change to a valid body: a field of the wrong type, a field removed, or an unknown field added. */
export function mutated(sample: unknown): fc.Arbitrary<Labelled<unknown>> {
  const all = paths(sample);
  const objects: Path[] = [[], ...all.filter((p) => isPlainObject(valueAt(sample, p)))];
  const options: Array<fc.Arbitrary<Labelled<unknown>>> = [
    fc.record({ path: fc.constantFrom(...objects), key: fc.string({ minLength: 1, maxLength: 12 }), extra: wrongValue })
      .map(({ path, key, extra }) => ({
        label: `unknown field ${describePath([...path, key])} = ${preview(extra)}`,
        value: setAt(sample, path, { ...(valueAt(sample, path) as Record<string, unknown>), [key]: extra }),
      })),
  ];
  if (all.length > 0) {
    options.push(
      fc.record({ path: fc.constantFrom(...all), replacement: wrongValue })
        .map(({ path, replacement }) => ({ label: `${describePath(path)} = ${preview(replacement)}`, value: setAt(sample, path, replacement) })),
      fc.constantFrom(...all).map((path) => ({ label: `without ${describePath(path)}`, value: deleteAt(sample, path) })),
    );
  }
  return fc.oneof(...options).map(asSent);
}

/** A huge string somewhere in a valid body: as a field's value, as an unknown field, or as a key. */
export function withHugeString(sample: unknown): fc.Arbitrary<Labelled<unknown>> {
  const all = paths(sample);
  const at = all.length > 0 ? fc.constantFrom<Path>([], ...all) : fc.constant<Path>([]);
  return fc.record({ path: at, huge: hugeString, asKey: fc.boolean() }).map(({ path, huge, asKey }) => {
    if (asKey || path.length === 0) {
      const parentPath = path.length === 0 || !isPlainObject(valueAt(sample, path.slice(0, -1))) ? [] : path.slice(0, -1);
      const parent = valueAt(sample, parentPath);
      const base = isPlainObject(parent) ? parent : {};
      return { label: `a key of ${huge.label} at ${describePath(parentPath)}`, value: setAt(sample, parentPath, { ...base, [huge.value]: 1 }) };
    }
    return { label: `${describePath(path)} = ${huge.label}`, value: setAt(sample, path, huge.value) };
  }).map(asSent);
}

/** Deep nesting in place of a field of a valid body, or as the whole body. */
export function withDeepNesting(sample: unknown): fc.Arbitrary<Labelled<string>> {
  const all = paths(sample);
  const at = all.length > 0 ? fc.constantFrom<Path>([], ...all) : fc.constant<Path>([]);
  return fc.record({ path: at, deep: deepValue }).map(({ path, deep }) => ({
    label: `${describePath(path)} = ${deep.label}`,
    value: path.length === 0 ? deep.value : spliceAt(sample, path, deep.value),
  }));
}

/** Awkward whole bodies a fuzzer might miss: prototype keys, BOMs, truncation, JSON-in-a-string. */
const TRICKY_BODIES = [
  "null", "true", "0", "-0", "1e999", '""', '"{}"', "[]", "[{}]", "{}", '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}', "\uFEFF{}", "{", '{"a":', "}{", "{}{}", "{,}", "{'a':1}", "NaN",
  "undefined", '{"a":1,"a":2}', "\u0000", " ", "\n", "[1,]", '{"a":1,}', '"\\ud800"',
] as const;

/** Random JSON documents: fast-check's JSON values, JS values mapped to JSON, and tricky ones. */
export const randomJsonBody: fc.Arbitrary<Labelled<string>> = fc.oneof(
  fc.json({ maxDepth: 4 }).map((text) => ({ label: "random JSON", value: text })),
  fc.anything({ maxDepth: 3, withBoxedValues: true, withNullPrototype: true, withObjectString: true, withSparseArray: true, withDate: true, withUnicodeString: true })
    .map((value) => JSON.stringify(value) as string | undefined)
    .filter((text): text is string => text !== undefined)
    .map((text) => ({ label: "a JS value as JSON", value: text })),
  fc.constantFrom(...TRICKY_BODIES).map((text) => ({ label: `tricky ${JSON.stringify(text)}`, value: text })),
);

/** Byte sequences that are not UTF-8: stray continuation, overlong, surrogate, truncated, out of range. */
const INVALID_UTF8 = ["80", "bf", "c0af", "c328", "e0a4", "eda080", "f4908080", "fe", "ff", "f8888080", "c3"] as const;

const CONTENT_TYPES = [
  undefined, "application/json", "application/json; charset=utf-8", "application/json; charset=latin1",
  "application/octet-stream", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png",
] as const;

/**
 * Bytes that are not a JSON document in UTF-8: random bytes, invalid UTF-8 alone, and invalid
 * UTF-8 inside an otherwise valid body (in every string of it), under any content type.
 */
export function garbageBytes(sample: unknown): fc.Arbitrary<WireBody> {
  const text = JSON.stringify(sample ?? {});
  const strings = [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m.index + 1);
  const spoiled = fc.record({ bad: fc.constantFrom(...INVALID_UTF8), at: strings.length > 0 ? fc.constantFrom(...strings) : fc.constant(1) })
    .map(({ bad, at }) => ({
      label: `invalid UTF-8 ${bad} inside a valid body`,
      bytes: Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bad, "hex"), Buffer.from(text.slice(at))]),
    }));
  return fc.record({
    content: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 4_096 }).map((bytes) => ({ label: `${bytes.length} random bytes`, bytes: Buffer.from(bytes) })),
      fc.constantFrom(...INVALID_UTF8).map((bad) => ({ label: `invalid UTF-8 ${bad}`, bytes: Buffer.from(bad, "hex") })),
      spoiled,
    ),
    contentType: fc.constantFrom(...CONTENT_TYPES),
  }).map(({ content, contentType }) => ({ label: `${content.label} as ${contentType ?? "no content type"}`, body: content.bytes, contentType }));
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Strings that are not ids (`^[A-Za-z0-9_-]{1,128}$`): traversal, spaces, 129 characters, Unicode, encodings. */
export const badId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "..", "../", "../../etc/passwd", "..%2F..%2F", "%2e%2e%2f", " ", "a b", " a", "a ", "a".repeat(129), "é", "🙂", "a/b",
    "a\\b", "a.b", "*", "%", "%00", "a\u0000b", "a\tb", "null", "a,b", "a;b", "<x>", "'", '"', "a+b", "a=b", "?", "#",
  ),
  fc.string({ minLength: 1, maxLength: 200, unit: "binary" }),
  fc.string({ minLength: 129, maxLength: 300, unit: "grapheme-ascii" }),
).filter((id) => !ID_PATTERN.test(id));

/** Percent-encodes what a path segment cannot carry raw; `raw` keeps the text as sent (only legal characters). */
export function pathSegment(id: string, raw: boolean): string {
  return raw && /^[\x21-\x7e]+$/.test(id) && !/[?#]/.test(id) ? id : encodeURIComponent(id);
}

/** A header value Node can send (printable Latin-1); other characters are replaced. */
export const headerValue = (value: string) => value.replace(/[^\x20-\x7e\xa0-\xff]/g, "?").slice(0, 8_192);

export interface RawResponse {
  status: number;
  text: string;
  json: any;
}

/** Sends exactly these bytes to `baseUrl + path` (no normalisation of the path, any method with a body). */
export function rawRequest(
  baseUrl: string,
  request: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer | undefined },
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      // A fresh connection each time: a kept-alive socket the server just closed would reset.
      host: url.hostname, port: url.port, method: request.method, path: request.path, agent: false,
      headers: { ...request.headers, ...(body ? { "content-length": String(body.length) } : {}) },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: response.statusCode ?? 0, text, json });
      });
      response.on("error", reject);
    });
    // A server may answer (413) and close before the whole body is written: wait for that answer.
    req.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" ? undefined : reject(error)));
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer to ${request.method} ${request.path} in 30 s`)));
    req.end(body);
  });
}
