/**
 * A KMS-compatible endpoint on loopback, so the real `@aws-sdk/client-kms` and
 * `@aws-crypto/client-node` run unchanged in local mode. It speaks AWS JSON 1.1
 * (`X-Amz-Target: TrentService.<Op>`), ignores SigV4 signatures, and names its errors as AWS does.
 *
 * Keys are 32 random bytes, kept in `stateFile` (JSON, mode 0600, replaced atomically) so
 * ciphertexts survive a restart. A ciphertext blob is
 * `version(1) | keyId(16, UUID bytes) | iv(12) | tag(16) | AES-256-GCM ciphertext`, with
 * `version | keyId | canonical encryption context (sorted keys)` as additional authenticated data.
 *
 * @example
 * const kms = await startLocalKms({ port: 0, host: "127.0.0.1", stateFile: ".data/kms.json" });
 * process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint;
 * await kms.stop();
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";

export interface LocalKmsOptions { port?: number; host: "127.0.0.1"; stateFile: string }
export interface LocalKms { endpoint: string; port: number; stop(): Promise<void> }

interface KmsState { keys: Record<string, { material: string; createdAt: number; description: string }>; aliases: Record<string, string> }
type Input = Record<string, unknown>;
type Operation = (input: Input, region: string) => object;

const ACCOUNT = "000000000000";
const BLOB_VERSION = 1;
const [HEADER_BYTES, IV_BYTES, TAG_BYTES] = [1 + 16, 12, 16];
const MAX_BODY_BYTES = 1 << 20;

class KmsError extends Error {
  constructor(readonly type: string, message: string) { super(message); }
}
const invalid = (message: string) => new KmsError("ValidationException", message);

function loadState(stateFile: string): KmsState {
  // A corrupt state file throws rather than being replaced: that would orphan every ciphertext.
  return existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, "utf8")) as KmsState) : { keys: {}, aliases: {} };
}

function saveState(stateFile: string, state: KmsState): void {
  mkdirSync(dirname(stateFile), { recursive: true });
  const temporary = `${stateFile}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temporary, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(temporary, stateFile);
}

const b64 = (bytes: Buffer) => bytes.toString("base64");
const uuidFromBytes = (bytes: Buffer) => bytes.toString("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");

function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== "string" || value === "") throw invalid(`${name} is required`);
  return value;
}

const requiredBlob = (input: Input, name: string) => Buffer.from(requiredString(input, name), "base64");

/** The encryption context as canonical bytes: entries sorted by key, so order never matters. */
function canonicalContext(input: Input): Buffer {
  const context = input.EncryptionContext ?? {};
  if (typeof context !== "object" || context === null || Object.values(context).some((v) => typeof v !== "string")) {
    throw invalid("EncryptionContext must map strings to strings");
  }
  return Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

function dataKeyLength(input: Input): number {
  const { KeySpec, NumberOfBytes } = input;
  if (KeySpec !== undefined && NumberOfBytes !== undefined) throw invalid("Specify either KeySpec or NumberOfBytes, not both");
  if (KeySpec === "AES_256") return 32;
  if (KeySpec === "AES_128") return 16;
  if (typeof NumberOfBytes === "number" && Number.isInteger(NumberOfBytes) && NumberOfBytes >= 1 && NumberOfBytes <= 1024) return NumberOfBytes;
  throw invalid("KeySpec must be AES_256 or AES_128, or NumberOfBytes an integer in 1..1024");
}

/** The SigV4 credential scope names the client's region; ARNs are built with it. */
function regionOf(request: IncomingMessage): string {
  return /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/kms\//.exec(request.headers.authorization ?? "")?.[1] ?? "us-east-1";
}

function kmsOperations(state: KmsState, persist: () => void): Record<string, Operation> {
  const arnOf = (region: string, resource: string) => `arn:aws:kms:${region}:${ACCOUNT}:${resource}`;
  const keyArn = (region: string, id: string) => arnOf(region, `key/${id}`);

  /** KeyId may be a key id, key ARN, alias name or alias ARN. */
  function resolveKey(input: Input, name = "KeyId"): { id: string; material: Buffer } {
    const keyId = requiredString(input, name);
    const arn = /^arn:aws[a-z-]*:kms:[a-z0-9-]*:\d{12}:((?:key|alias)\/.+)$/.exec(keyId);
    const resource = arn?.[1] ?? keyId;
    const id = resource.startsWith("alias/") ? state.aliases[resource] : arn ? resource.slice("key/".length) : resource;
    const key = id === undefined ? undefined : state.keys[id];
    if (id === undefined || key === undefined) throw new KmsError("NotFoundException", `Key '${keyId}' does not exist`);
    return { id, material: Buffer.from(key.material, "base64") };
  }

  function seal(input: Input, plaintext: Buffer): { id: string; blob: Buffer } {
    const { id, material } = resolveKey(input);
    const header = Buffer.concat([Buffer.of(BLOB_VERSION), Buffer.from(id.replaceAll("-", ""), "hex")]);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", material, iv).setAAD(Buffer.concat([header, canonicalContext(input)]));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { id, blob: Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]) };
  }

  function open(input: Input): { id: string; plaintext: Buffer } {
    const blob = requiredBlob(input, "CiphertextBlob");
    const rejected = new KmsError("InvalidCiphertextException", "The ciphertext is invalid or its encryption context does not match");
    if (blob.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || blob[0] !== BLOB_VERSION) throw rejected;
    const id = uuidFromBytes(blob.subarray(1, HEADER_BYTES));
    if (input.KeyId !== undefined && resolveKey(input).id !== id) {
      throw new KmsError("IncorrectKeyException", "The key ID in the request does not identify the key that encrypted the ciphertext");
    }
    const key = state.keys[id];
    if (key === undefined) throw rejected;
    const tagEnd = HEADER_BYTES + IV_BYTES + TAG_BYTES;
    try {
      const decipher = createDecipheriv("aes-256-gcm", Buffer.from(key.material, "base64"), blob.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES))
        .setAAD(Buffer.concat([blob.subarray(0, HEADER_BYTES), canonicalContext(input)]))
        .setAuthTag(blob.subarray(HEADER_BYTES + IV_BYTES, tagEnd));
      return { id, plaintext: Buffer.concat([decipher.update(blob.subarray(tagEnd)), decipher.final()]) };
    } catch (error) {
      throw error instanceof KmsError ? error : rejected;
    }
  }

  function keyMetadata(region: string, id: string) {
    const key = state.keys[id];
    return {
      AWSAccountId: ACCOUNT, KeyId: id, Arn: keyArn(region, id), CreationDate: (key?.createdAt ?? 0) / 1000,
      Description: key?.description ?? "", Enabled: true, KeyState: "Enabled", KeyUsage: "ENCRYPT_DECRYPT",
      KeySpec: "SYMMETRIC_DEFAULT", CustomerMasterKeySpec: "SYMMETRIC_DEFAULT", EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
      Origin: "AWS_KMS", KeyManager: "CUSTOMER", MultiRegion: false,
    };
  }

  function generateDataKey(input: Input, region: string) {
    const plaintext = randomBytes(dataKeyLength(input));
    const { id, blob } = seal(input, plaintext);
    return { KeyId: keyArn(region, id), CiphertextBlob: b64(blob), Plaintext: b64(plaintext) };
  }

  return {
    CreateKey: (input, region) => {
      const id = randomUUID();
      const description = typeof input.Description === "string" ? input.Description : "";
      state.keys[id] = { material: b64(randomBytes(32)), createdAt: Date.now(), description };
      persist();
      return { KeyMetadata: keyMetadata(region, id) };
    },
    CreateAlias: (input) => {
      const name = requiredString(input, "AliasName");
      if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name) || name.startsWith("alias/aws/")) throw invalid(`Invalid alias name '${name}'`);
      if (state.aliases[name] !== undefined) throw new KmsError("AlreadyExistsException", `Alias '${name}' already exists`);
      state.aliases[name] = resolveKey(input, "TargetKeyId").id;
      persist();
      return {};
    },
    DescribeKey: (input, region) => ({ KeyMetadata: keyMetadata(region, resolveKey(input).id) }),
    ListAliases: (input, region) => {
      const only = input.KeyId === undefined ? undefined : resolveKey(input).id;
      const aliases = Object.entries(state.aliases).filter(([, target]) => only === undefined || target === only);
      return { Aliases: aliases.map(([name, target]) => ({ AliasName: name, AliasArn: arnOf(region, name), TargetKeyId: target })), Truncated: false };
    },
    GenerateDataKey: generateDataKey,
    GenerateDataKeyWithoutPlaintext: (input, region) => {
      const { KeyId, CiphertextBlob } = generateDataKey(input, region);
      return { KeyId, CiphertextBlob };
    },
    Encrypt: (input, region) => {
      const plaintext = requiredBlob(input, "Plaintext");
      if (plaintext.length > 4096) throw invalid("Plaintext must be at most 4096 bytes");
      const { id, blob } = seal(input, plaintext);
      return { KeyId: keyArn(region, id), CiphertextBlob: b64(blob), EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
    },
    Decrypt: (input, region) => {
      const { id, plaintext } = open(input);
      return { KeyId: keyArn(region, id), Plaintext: b64(plaintext), EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
    },
  };
}

async function readJsonBody(request: IncomingMessage): Promise<Input> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw invalid("Request body is too large");
    chunks.push(chunk);
  }
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    if (typeof body === "object" && body !== null && !Array.isArray(body)) return body as Input;
  } catch { /* reported below */ }
  throw new KmsError("SerializationException", "The request body is not a JSON object");
}

/** Starts the endpoint; `port: 0` (the default) picks a free port. */
export async function startLocalKms({ port = 0, host, stateFile }: LocalKmsOptions): Promise<LocalKms> {
  const state = loadState(stateFile);
  const operations = kmsOperations(state, () => saveState(stateFile, state));

  async function answer(request: IncomingMessage): Promise<{ status: number; body: object }> {
    try {
      const target = request.headers["x-amz-target"];
      const operation = typeof target === "string" && target.startsWith("TrentService.") ? operations[target.slice("TrentService.".length)] : undefined;
      if (request.method !== "POST" || operation === undefined) throw new KmsError("UnknownOperationException", `Unknown operation ${String(target)}`);
      return { status: 200, body: operation(await readJsonBody(request), regionOf(request)) };
    } catch (error) {
      if (error instanceof KmsError) return { status: 400, body: { __type: error.type, message: error.message } };
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
