// `npm run openapi`: writes docs/openapi.json from the zod schemas.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildOpenApiDocument } from "@paysync/core/api/openapi";

const target = resolve(import.meta.dirname, "../docs/openapi.json");
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target}`);
