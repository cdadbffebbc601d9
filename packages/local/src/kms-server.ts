/**
 * A KMS-compatible endpoint on loopback, so the real `@aws-sdk/client-kms` and
 * `@aws-crypto/client-node` run unchanged in local mode. It speaks AWS JSON 1.1
 * (`X-Amz-Target: TrentService.<Op>`), ignores SigV4 signatures (it reads only the Region of the
 * credential scope), and names and words its errors as AWS does, all with HTTP 400 as AWS sends
 * them (`kms/errors.ts`).
 *
 * What it models, as AWS KMS behaves:
 * - Symmetric keys (`SYMMETRIC_DEFAULT`, AES-256-GCM with the encryption context as additional
 *   authenticated data): Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext
 *   and GenerateRandom. Decrypt naming another key than the ciphertext's (or ReEncrypt's SourceKeyId)
 *   is IncorrectKeyException; a changed blob or another encryption context is
 *   InvalidCiphertextException.
 * - Signing keys (`ECC_NIST_P256`, `SIGN_VERIFY`): Sign and Verify with `ECDSA_SHA_256`, of a RAW
 *   message (1–4096 bytes, hashed with SHA-256) or a 32-byte DIGEST, with DER signatures;
 *   GetPublicKey answers the DER SubjectPublicKeyInfo. A signature that does not verify is
 *   KMSInvalidSignatureException (AWS never answers `SignatureValid: false`); a key used for the
 *   other kind of work is InvalidKeyUsageException. The private key never leaves the state file.
 * - Key states: DisableKey, EnableKey, ScheduleKeyDeletion (7–30 days; once the date passes the
 *   key and its aliases are gone), CancelKeyDeletion (the key comes back Disabled, as in AWS). A
 *   disabled key refuses every use with DisabledException, a key pending deletion with
 *   KMSInvalidStateException; DescribeKey reports KeyState, Enabled and DeletionDate. GetPublicKey
 *   of a disabled key is refused too, as AWS's key state table says.
 * - Key names: key id, key ARN, alias name and alias ARN (key management takes a key id or key
 *   ARN only), in one account, `000000000000`, and the Region the client signed for. A key or alias
 *   ARN naming another Region is NotFoundException "Invalid arn <region>", as AWS answers; one
 *   naming another account is NotFoundException too, since no other account holds keys here (AWS
 *   would look in that account, and could answer AccessDeniedException there).
 *
 * What it does not model: key policies, grants and IAM (every request is allowed; Policy and Tags
 * are accepted and ignored); other key specs and usages (RSA, other curves, HMAC, key agreement,
 * asymmetric encryption: CreateKey answers UnsupportedOperationException); multi-Region keys,
 * imported key material and custom key stores; rotation of key material; aliases' UpdateAlias and
 * DeleteAlias, ListKeys, tags; DryRun; quotas and throttling. Keys are not regional: a key id
 * resolves whatever Region the client names.
 *
 * moto_server (another KMS emulator) answers many of these requests otherwise: it lets disabled
 * keys and keys pending deletion work, resolves ARNs of any Region or account, answers
 * AccessDeniedException where AWS says IncorrectKeyException, `SignatureValid: false` where AWS
 * says KMSInvalidSignatureException, and hashes a DIGEST again. The integration test
 * `kms-moto-parity.test.ts` sends both endpoints the same requests and records each difference.
 *
 * `GET /local/requests` answers how many requests each operation received since the start
 * (`{"operations":{"Sign":3,…}}`), standing in for CloudTrail's count of KMS calls: tests and
 * the bench measure with it that a read of an unchanged state costs no `Sign`.
 *
 * Keys (symmetric material and private keys), key states and aliases are kept in `stateFile`
 * (JSON, mode 0600, replaced atomically), so ciphertexts and signing keys survive a restart; key
 * material lives only there and is never answered.
 *
 * @example
 * const kms = await startLocalKms({ port: 0, host: "127.0.0.1", stateFile: ".data/kms.json" });
 * process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint;
 * await kms.stop();
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { signingOperations } from "./kms/asymmetric.js";
import { invalid, KmsError } from "./kms/errors.js";
import type { Input, Operation } from "./kms/input.js";
import { KeyRing } from "./kms/keys.js";
import { lifecycleOperations } from "./kms/lifecycle.js";
import { loadState, saveState } from "./kms/state.js";
import { symmetricOperations } from "./kms/symmetric.js";

export interface LocalKmsOptions {
  port?: number;
  host: "127.0.0.1";
  stateFile: string;
  /** Milliseconds since the epoch (default `Date.now`): a test moves it to see a deletion date pass. */
  clock?: () => number;
}
export interface LocalKms { endpoint: string; port: number; stop(): Promise<void> }

/** The request counts of `GET /local/requests`. */
export const LOCAL_KMS_REQUESTS_PATH = "/local/requests";

const MAX_BODY_BYTES = 1 << 20;

/** The SigV4 credential scope names the client's Region; ARNs are built and checked with it. */
function regionOf(request: IncomingMessage): string {
  return /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/kms\//.exec(request.headers.authorization ?? "")?.[1] ?? "us-east-1";
}

async function readJsonBody(request: IncomingMessage): Promise<Input> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw invalid.value("Request body is too large");
    chunks.push(chunk);
  }
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    if (typeof body === "object" && body !== null && !Array.isArray(body)) return body as Input;
  } catch { /* reported below */ }
  throw new KmsError("SerializationException", "The request body is not a JSON object");
}

/** Starts the endpoint; `port: 0` (the default) picks a free port. */
export async function startLocalKms({ port = 0, host, stateFile, clock = Date.now }: LocalKmsOptions): Promise<LocalKms> {
  const state = loadState(stateFile);
  const ring = new KeyRing(state, () => saveState(stateFile, state), clock);
  const operations: Record<string, Operation> = { ...lifecycleOperations(ring), ...symmetricOperations(ring), ...signingOperations(ring) };
  const requests: Record<string, number> = {};

  async function answer(request: IncomingMessage): Promise<{ status: number; body: object }> {
    try {
      const target = request.headers["x-amz-target"];
      const name = typeof target === "string" && target.startsWith("TrentService.") ? target.slice("TrentService.".length) : undefined;
      const operation = name !== undefined && Object.hasOwn(operations, name) ? operations[name] : undefined;
      if (request.method === "GET" && request.url === LOCAL_KMS_REQUESTS_PATH) return { status: 200, body: { operations: { ...requests } } };
      if (request.method !== "POST" || operation === undefined || name === undefined) throw new KmsError("UnknownOperationException", `Unknown operation ${String(target)}`);
      requests[name] = (requests[name] ?? 0) + 1;
      const input = await readJsonBody(request);
      ring.forgetDeletedKeys();
      return { status: 200, body: operation(input, regionOf(request)) };
    } catch (error) {
      // AWS leaves `message` out when it has nothing to say (InvalidCiphertextException, KMSInvalidSignatureException).
      if (error instanceof KmsError) return { status: 400, body: { __type: error.type, ...(error.message ? { message: error.message } : {}) } };
      return { status: 500, body: { __type: "KMSInternalException", message: "Internal error" } };
    }
  }

  const server = createServer((request, response) => {
    void answer(request).then(({ status, body }) => {
      response.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${bound}`,
    port: bound,
    stop: () => new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }),
  };
}
