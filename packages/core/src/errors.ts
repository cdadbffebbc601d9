/**
 * Errors are values with codes; `functions/http` maps them to HTTP status in one place.
 */
export type ErrorCode =
  | "validation_error"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "limit_exceeded"
  | "internal_error"
  | "service_unavailable"
  | "resync_required"
  | "protocol_unsupported"
  // Gateway-level answers (the local gateway; docs/SECURITY.md "Errors from the gateway").
  | "method_not_allowed"
  | "headers_too_large"
  | "timeout";

export class PaysyncError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends PaysyncError {
  constructor(message: string, details?: unknown) {
    super("validation_error", message, details);
  }
}

export class UnauthorizedError extends PaysyncError {
  constructor(message = "A valid bearer token is required") {
    super("unauthorized", message);
  }
}

export class NotFoundError extends PaysyncError {
  constructor(message = "Not found") {
    super("not_found", message);
  }
}

export class ConflictError extends PaysyncError {
  constructor(message: string, details?: unknown) {
    super("conflict", message, details);
  }
}

export class PayloadTooLargeError extends PaysyncError {
  constructor(message: string, details?: unknown) {
    super("payload_too_large", message, details);
  }
}

export type LimitName = "bandwidth" | "push_bytes" | "daily_data" | "offline_queue" | "concurrency" | "session_ceiling" | "pull_interval";

export class LimitExceededError extends PaysyncError {
  constructor(
    readonly limit: LimitName,
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super("limit_exceeded", message, { limit, retryAfterSeconds });
  }
}

/** A dependency (storage, queue, KMS) failed: the caller should retry; nothing was half-written. */
export class DependencyError extends PaysyncError {
  constructor(message: string) {
    super("service_unavailable", message);
  }
}

/** The cursor points into a part of the feed that retention purged: drop it and pull from scratch. */
export class ResyncRequiredError extends PaysyncError {
  constructor(message = "This cursor points into a part of the feed that was purged; pull again without a cursor") {
    super("resync_required", message);
  }
}

/** The request's `X-Paysync-Protocol` is outside what this server speaks. */
export class ProtocolUnsupportedError extends PaysyncError {
  constructor(readonly supported: { min: number; max: number }, requested: number) {
    super("protocol_unsupported", `Protocol version ${requested} is not supported; this server speaks ${supported.min}..${supported.max}`, { supported });
  }
}
