/**
 * Protocol versions (SPEC.md §4.1): a device names the version it speaks in `X-Paysync-Protocol`;
 * the server speaks {@link SUPPORTED_PROTOCOL}. A request without the header is taken as the
 * current version (apps that predate the header speak version 1). Outside the range: `426
 * protocol_unsupported` with `details.supported` — except on the crisis routes (and the
 * unauthenticated health check and Stripe webhook), which answer every version.
 *
 * @example
 * const refusal = protocolRefusal("POST /v1/sync/push", headers["x-paysync-protocol"]); // undefined: go on
 */
import { ProtocolUnsupportedError, ValidationError, type PaysyncError } from "../errors.js";
import { API_ROUTES } from "./routes.js";

/** The one place the supported range is stated. */
export const SUPPORTED_PROTOCOL = { min: 1, max: 1 } as const;
export const CURRENT_PROTOCOL = SUPPORTED_PROTOCOL.max;
export const PROTOCOL_HEADER = "x-paysync-protocol";

/** Routes that answer every protocol version: the crisis path, and the routes no device speaks the protocol on. */
export function answersEveryProtocol(routeKey: string): boolean {
  const route = API_ROUTES.find((r) => r.route === routeKey);
  return route === undefined || route.function === "Crisis" || !route.auth;
}

/** The error a request's protocol version earns on this route, if any. */
export function protocolRefusal(routeKey: string, header: string | undefined): PaysyncError | undefined {
  if (answersEveryProtocol(routeKey) || header === undefined) return undefined;
  if (!/^\d{1,6}$/.test(header.trim())) {
    return new ValidationError(`Invalid ${PROTOCOL_HEADER} header`, [{ path: [PROTOCOL_HEADER], code: "custom", message: "must be a protocol version number" }]);
  }
  const version = Number(header.trim());
  if (version < SUPPORTED_PROTOCOL.min || version > SUPPORTED_PROTOCOL.max) return new ProtocolUnsupportedError({ ...SUPPORTED_PROTOCOL }, version);
  return undefined;
}
