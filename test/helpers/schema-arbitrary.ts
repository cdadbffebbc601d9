import fc from "fast-check";

/**
 * A fast-check arbitrary of the values a JSON Schema (draft 2020-12, as the OpenAPI document
 * uses) accepts: the conformance test draws requests from the document itself, not from the
 * zod schemas that made it, so a rule the server enforces and the document does not state
 * shows up as a refused valid request.
 *
 * Supported: `$ref` (into the document and a component's own `$defs`), `type` (one or a list),
 * `const`, `enum`, `oneOf`/`anyOf`, string `pattern`/`minLength`/`maxLength`/`format: date-time`,
 * integer and number bounds, arrays with `items`/`minItems`/`maxItems`, objects with
 * `properties`/`required`/`additionalProperties`. Sizes are kept small (a request, not a load);
 * recursive schemas (JSON values) stop nesting after a few levels.
 *
 * @example
 * const body = arbitraryOf({ $ref: "#/components/schemas/SyncPushRequest" }, document);
 */
type Schema = Record<string, any>;

const MAX_ITEMS = 3;
const MAX_DEPTH = 3;

function resolveRef(ref: string, root: Schema): Schema {
  if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
  let node: any = root;
  for (const part of ref.slice(2).split("/")) node = node?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  if (node === undefined) throw new Error(`dangling $ref ${ref}`);
  return node as Schema;
}

function stringOf(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 24, 64);
  if (schema.format === "date-time") {
    return fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString());
  }
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern as string);
    return fc.stringMatching(pattern).filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity));
  }
  return fc.string({ minLength: min, maxLength: Math.max(min, max) });
}

function numberOf(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (integer ? 1 : Number.EPSILON) : -1_000);
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - (integer ? 1 : Number.EPSILON) : 1_000);
  // Small values are the common case; the bounds themselves are the interesting edge.
  const high = Math.min(max, Math.max(min, 0) + 1_000);
  return integer
    ? fc.oneof(fc.integer({ min: Math.ceil(min), max: Math.floor(high) }), fc.constantFrom(Math.ceil(min), Math.floor(max)))
    : fc.double({ min, max: high, noNaN: true, noDefaultInfinity: true });
}

function objectOf(schema: Schema, root: Schema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set<string>(schema.required ?? []);
  const known = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, arbitraryAt(s, root, depth + 1)]));
  const fixed = fc.record(known, { requiredKeys: [...required].filter((k) => k in known) });
  const extra = schema.additionalProperties;
  if (extra === undefined || extra === false || Object.keys(properties).length > 0 || depth >= MAX_DEPTH) return fixed;
  const values = extra === true ? fc.jsonValue({ maxDepth: 1 }) : arbitraryAt(extra as Schema, root, depth + 1);
  return fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), values, { maxKeys: MAX_ITEMS });
}

function arbitraryAt(schema: Schema, root: Schema, depth: number): fc.Arbitrary<unknown> {
  if (schema.$ref) return arbitraryAt(resolveRef(schema.$ref as string, root), root, depth);
  if ("const" in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  const union = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (union) {
    // Past the depth limit, only branches that cannot recurse (scalars) are drawn.
    const branches = depth >= MAX_DEPTH ? union.filter((b) => !b.$ref && b.type !== "array" && b.type !== "object") : union;
    return fc.oneof(...(branches.length > 0 ? branches : union.slice(0, 1)).map((b) => arbitraryAt({ ...schema, oneOf: undefined, anyOf: undefined, ...b }, root, depth)));
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : schema.type ? [schema.type as string] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => arbitraryAt({ ...schema, type }, root, depth)));
  switch (types[0]) {
    case "string": return stringOf(schema);
    case "integer": return numberOf(schema, true);
    case "number": return numberOf(schema, false);
    case "boolean": return fc.boolean();
    case "null": return fc.constant(null);
    case "array": {
      const items = schema.items ? arbitraryAt(schema.items as Schema, root, depth + 1) : fc.jsonValue({ maxDepth: 1 });
      const minLength = schema.minItems ?? 0;
      return fc.array(items, { minLength, maxLength: Math.max(minLength, Math.min(schema.maxItems ?? MAX_ITEMS, MAX_ITEMS)) });
    }
    case "object": return objectOf(schema, root, depth);
    default: return fc.jsonValue({ maxDepth: 1 });
  }
}

export function arbitraryOf(schema: Schema, document: Schema): fc.Arbitrary<unknown> {
  return arbitraryAt(schema, document, 0);
}
