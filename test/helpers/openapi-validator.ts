import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * Validates values against the OpenAPI document's schemas by `$ref` (`#/components/schemas/…`),
 * each compiled once: what the document promises is what a live answer is checked against.
 *
 * @example
 * const check = documentValidator(buildOpenApiDocument());
 * check("#/components/schemas/ErrorBody", body); // undefined, or the first errors as text
 */
export function documentValidator(document: Record<string, unknown>): (ref: string, value: unknown) => string | undefined {
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: "doc", components: document.components });
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  return (ref, value) => {
    let check = compiled.get(ref);
    if (!check) compiled.set(ref, (check = ajv.compile({ $ref: `doc${ref}` })));
    return check(value) ? undefined : JSON.stringify(check.errors?.slice(0, 3));
  };
}
