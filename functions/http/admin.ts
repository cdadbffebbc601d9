import { CrisisDirectorySchema, CrisisDirectoryVersionSchema } from "@paysync/core/api/crisis-directory";
import { PaysyncError } from "@paysync/core/errors";
import { config } from "@paysync/aws/base/config";
import { header, httpHandler, json, parseBody, routeTable, type HttpEvent } from "@paysync/aws/base/http";
import { requireOpsToken } from "@paysync/aws/base/ops-auth";
import { wiring } from "@paysync/aws/wiring";

/**
 * The operators' admin routes (docs/CRISIS.md): `GET /admin/crisis-directory` shows the current
 * crisis directory, `PUT` stores a new version (validated with zod: a bad body is a 400 and
 * changes nothing). Both need `Authorization: Bearer <ops token>`; every call is audited,
 * refusals included.
 */
async function audited<T>(action: "show" | "set", run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    await wiring.crisisDirectoryAdmin().refused(action, error instanceof PaysyncError ? error.code : "internal_error");
    throw error;
  }
}

const authorize = (event: HttpEvent) => requireOpsToken(header(event, "authorization"), config.secret("OPS_ADMIN_TOKEN"));

export const handler = httpHandler(routeTable<"Admin">({
  "GET /admin/crisis-directory": (event) => audited("show", async () => {
    authorize(event);
    return json(200, CrisisDirectoryVersionSchema.parse(await wiring.crisisDirectoryAdmin().show()));
  }),
  "PUT /admin/crisis-directory": (event) => audited("set", async () => {
    authorize(event);
    const directory = parseBody(event, CrisisDirectorySchema);
    return json(200, CrisisDirectoryVersionSchema.parse(await wiring.crisisDirectoryAdmin().set(directory)));
  }),
}));
