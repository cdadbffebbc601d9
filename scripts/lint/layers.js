/**
 * The project's layering as an ESLint rule (`paysync/layers`), so that a tangle fails
 * `npm run lint` instead of growing. Every import — static, dynamic, re-export and
 * `typeof import()` — is resolved to the file or package it names and checked against the
 * layers of docs/ARCHITECTURE.md:
 *
 *   core      packages/core        imports core only
 *   client    packages/client      imports core and itself
 *   base, crypto, store            packages/aws/src/{base,crypto,store}: core, each other, resources
 *   feature   packages/aws/src/{sync,crisis,payments,audit,ops,jobs}: core, base, crypto, store,
 *             resources and its own folder — never another feature, except that jobs (a
 *             feature's scheduled entry points) may use the features' services
 *   aws       never imports functions/, packages/local or packages/client
 *   anywhere  packages are imported by name (`@paysync/aws/...`), never by a path into
 *             another package's `src`
 */
import { dirname, relative, resolve, sep } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const FEATURES = new Set(["sync", "crisis", "payments", "audit", "ops", "jobs"]);
const FOUNDATION = new Set(["base", "crypto", "store"]);
/** Folders a feature may import besides its own: the one direction the domain needs. */
const FEATURE_EXCEPTIONS = { jobs: new Set(["payments", "audit"]) };

/** Where a repository path sits: `{ pkg, area }` for package sources, `{ top }` otherwise. */
function place(file) {
  const parts = relative(ROOT, file).split(sep);
  if (parts[0] === "packages" && parts[2] === "src") {
    const pkg = parts[1];
    const area = pkg === "aws" ? parts[3]?.replace(/\.(ts|js)$/, "") : undefined;
    return { pkg, area };
  }
  return { top: parts[0]?.replace(/\.(ts|js)$/, "") };
}

/** The repository path an import names, or `undefined` for a third-party package. */
function target(specifier, fromFile) {
  if (specifier.startsWith(".")) return resolve(dirname(fromFile), specifier);
  const named = /^@paysync\/(core|aws|local|client)(?:\/(.*))?$/.exec(specifier);
  if (!named) return undefined;
  return resolve(ROOT, "packages", named[1], "src", named[2] ?? "index");
}

function violation(from, to, specifier) {
  if (from.top !== undefined && from.top !== "packages" && specifier.startsWith(".") && to.pkg !== undefined) {
    return `import ${specifier} by its package name (@paysync/${to.pkg}/…), not by a path into packages/${to.pkg}/src`;
  }
  if (from.pkg !== undefined && to.pkg !== undefined && from.pkg !== to.pkg && specifier.startsWith(".")) {
    return `import ${specifier} by its package name (@paysync/${to.pkg}/…), not by a relative path across packages`;
  }
  if (from.pkg === "core" && (to.pkg !== "core" || to.top !== undefined)) return "packages/core is the domain: it imports nothing of aws, local, client or functions";
  if (from.pkg === "client" && to.pkg !== undefined && !["core", "client"].includes(to.pkg)) return "packages/client imports only @paysync/core and itself";
  if (from.pkg === "aws") {
    if (to.top === "functions" || to.pkg === "local" || to.pkg === "client") return "packages/aws never imports functions/, packages/local or packages/client";
    if (to.pkg !== "aws") return undefined;
    if (FOUNDATION.has(from.area) && (FEATURES.has(to.area) || to.area === "wiring")) {
      return `packages/aws/src/${from.area} is below the features: it may not import ${to.area}/`;
    }
    if (FEATURES.has(from.area)) {
      if (to.area === "wiring") return "features receive their ports through constructors: only handlers import wiring";
      const allowed = to.area === from.area || !FEATURES.has(to.area) || FEATURE_EXCEPTIONS[from.area]?.has(to.area);
      if (!allowed) return `feature ${from.area}/ may not import feature ${to.area}/: share it through store/ or a port`;
    }
  }
  return undefined;
}

function sourceOf(node) {
  if (node.type === "TSImportType") {
    const literal = node.argument?.literal ?? node.argument;
    return typeof literal?.value === "string" ? literal : undefined;
  }
  return node.source?.type === "Literal" && typeof node.source.value === "string" ? node.source : undefined;
}

const layers = {
  meta: {
    type: "problem",
    docs: { description: "Imports follow the project's layers (docs/ARCHITECTURE.md)" },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const from = place(file);
    const check = (node) => {
      const source = sourceOf(node);
      if (source === undefined) return;
      const resolved = target(source.value, file);
      if (resolved === undefined) return;
      const message = violation(from, place(resolved), source.value);
      if (message !== undefined) context.report({ node: source, message });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
      TSImportType: check,
    };
  },
};

export default { rules: { layers } };
