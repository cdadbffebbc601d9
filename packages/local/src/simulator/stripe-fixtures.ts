import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Real Stripe object shapes for the simulator and the tests: the fixtures of
 * `../shared/fixtures/stripe/` beside the project when they are there, else the minimal shapes
 * copied from them into `stripe-fixtures.json` (with their MIT license note), so `npx paysync`
 * works in a checkout without `shared/`. `PAYSYNC_STRIPE_FIXTURES` names another directory,
 * or `builtin` to force the copied shapes.
 *
 * @example
 * const subscription = fixture("subscription"); // a fresh deep copy
 * fixtureSource(); // "shared" or "builtin"
 */
export type StripeObject = Record<string, unknown>;

export const FIXTURE_NAMES = ["event", "price", "subscription", "invoice", "checkout.session", "customer"] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

const PROJECT_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const SHARED_FIXTURES_DIR = join(PROJECT_ROOT, "../shared/fixtures/stripe");
const BUILTIN = new URL("./stripe-fixtures.json", import.meta.url);

let loaded: { source: "shared" | "builtin"; objects: Map<string, StripeObject> } | undefined;

function load(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const setting = process.env.PAYSYNC_STRIPE_FIXTURES;
  const dir = setting === "builtin" ? undefined : setting || SHARED_FIXTURES_DIR;
  const objects = new Map<string, StripeObject>();
  if (dir !== undefined && FIXTURE_NAMES.every((name) => existsSync(join(dir, `${name}.json`)))) {
    for (const name of FIXTURE_NAMES) objects.set(name, JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as StripeObject);
    loaded = { source: "shared", objects };
  } else {
    const builtin = JSON.parse(readFileSync(BUILTIN, "utf8")) as Record<string, StripeObject>;
    for (const name of FIXTURE_NAMES) objects.set(name, builtin[name] as StripeObject);
    loaded = { source: "builtin", objects };
  }
  return loaded;
}

/** Where the shapes come from: the shared fixtures, or the built-in copy. */
export function fixtureSource(): "shared" | "builtin" {
  return load().source;
}

/** A deep copy of a fixture, so factories can mutate it freely. */
export function fixture(name: FixtureName | (string & {})): StripeObject {
  const object = load().objects.get(name);
  if (object === undefined) throw new Error(`no Stripe fixture named ${name} (one of: ${FIXTURE_NAMES.join(", ")})`);
  return structuredClone(object);
}
