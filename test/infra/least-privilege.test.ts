import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Function } from "sst/constructs";
import {
  accessOf,
  allStatements,
  asList,
  cleanUpArtifacts,
  findFunction,
  logicalIdOf,
  synthesize,
  type FunctionAccess,
  type SynthesizedApp,
} from "./synth.js";

/**
 * What each function may touch, written out by hand (not read from FUNCTIONS) so that a
 * drift in resources.ts or in the stacks shows up here as a failure to look at.
 * Tables: r = read, rw = read and write, - = none.
 */
type Level = "r" | "rw" | "-";
type Lanes = ("Realtime" | "Standard" | "Background" | "Webhooks" | "Audit")[];
/** The payload key: d = unwrap branch keys (reads payloads), g = generate them (writes), describe = health only. */
type Key = "dg" | "d" | "g" | "describe" | "-";
type Row = [fn: string, sync: Level, payments: Level, audit: Level, connections: Level, sends: Lanes, consumes: Lanes, redrives: Lanes, key: Key];

const ALL_LANES: Lanes = ["Realtime", "Standard", "Background", "Webhooks", "Audit"];
const SYNC_LANES: Lanes = ["Realtime", "Standard", "Background"];
/** Every function that appends audit entries may keep them on the Audit lane while the table is down; only the drain consumes it. */
const A: Lanes = ["Audit"];

// prettier-ignore
const MATRIX: Row[] = [
  //  function            Sync  Payments Audit  Conn.  sends to       consumes        redrives   key
  ["Health",             "r",  "r",     "r",   "r",   [],            [],             [],        "describe"],
  ["StripeWebhook",      "-",  "rw",    "rw",  "-",   ["Webhooks", ...A], [],        [],        "-"],
  ["Entitlements",       "-",  "r",     "rw",  "-",   A,             [],             [],        "-"],
  ["Jwks",               "-",  "-",     "-",   "-",   [],            [],             [],        "-"],
  ["Devices",            "rw", "-",     "rw",  "-",   A,             [],             [],        "-"],
  ["SyncPush",           "rw", "r",     "rw",  "rw",  [...SYNC_LANES, ...A], [],     [],        "dg"],
  ["SyncPull",           "rw", "r",     "rw",  "-",   A,             [],             [],        "d"],
  ["Conflicts",          "rw", "r",     "rw",  "-",   A,             [],             [],        "dg"],
  ["Handoff",            "rw", "-",     "rw",  "rw",  A,             [],             [],        "g"],
  ["Crisis",             "rw", "-",     "rw",  "rw",  ["Realtime", ...A], [],        [],        "dg"],
  ["Admin",              "rw", "-",     "rw",  "-",   A,             [],             [],        "-"],
  ["SyncWorker",         "rw", "r",     "rw",  "rw",  A,             SYNC_LANES,     [],        "dg"],
  ["WebhookWorker",      "rw", "rw",    "rw",  "rw",  A,             ["Webhooks"],   [],        "g"],
  ["GraceExpiry",        "rw", "rw",    "rw",  "rw",  A,             [],             [],        "g"],
  ["RetentionPurge",     "rw", "r",     "rw",  "-",   A,             [],             [],        "-"],
  ["DlqRedrive",         "-",  "-",     "rw",  "-",   ALL_LANES,     [],             ALL_LANES, "-"],
  ["UsageAggregation",   "r",  "-",     "rw",  "-",   A,             [],             [],        "-"],
  ["SloReport",          "-",  "-",     "rw",  "-",   A,             [],             [],        "-"],
  ["AuditVerify",        "-",  "-",     "rw",  "-",   A,             [],             [],        "-"],
  ["AuditDrain",         "-",  "-",     "rw",  "-",   [],            A,              [],        "-"],
  ["RealtimeAuthorizer", "-",  "-",     "-",   "-",   [],            [],             [],        "-"],
  ["RealtimeConnect",    "r",  "-",     "-",   "rw",  [],            [],             [],        "-"],
  ["RealtimeDisconnect", "-",  "-",     "-",   "rw",  [],            [],             [],        "-"],
];

/** The functions that post pokes to WebSocket connections: nobody else may (not even the socket's own). */
const POKERS = ["SyncPush", "Handoff", "Crisis", "SyncWorker", "WebhookWorker", "GraceExpiry"];

/** The only uses of the entitlement signing key: one function signs, one publishes the public key. */
const SIGNING_KEY_USERS: Record<string, string[]> = { Entitlements: ["kms:Sign"], Jwks: ["kms:GetPublicKey"] };

/** Lanes (and their DLQs) whose attributes a function may read, and nothing else of them. */
const INSPECTS: Record<string, Lanes> = { Health: ALL_LANES };

/** Who may read each secret from SSM (SST binding grants ssm:GetParameters on its names). */
const SECRET_READERS: Record<string, string[]> = {
  STRIPE_WEBHOOK_SECRET: ["StripeWebhook"],
  OPS_ADMIN_TOKEN: ["Admin"],
  PSEUDONYM_SECRET: [
    // Workers and jobs receive pseudonymous keys only: they never see a raw id to hash.
    "StripeWebhook", "Entitlements", "Devices", "SyncPush", "SyncPull", "Conflicts", "Handoff", "Crisis",
    // The socket's authorizer turns the token's subject into the user key it hands $connect.
    "RealtimeAuthorizer",
  ],
};

const TABLE_READ = [
  "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem",
  "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:Query", "dynamodb:Scan",
];
const TABLE_WRITE = ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"];
const QUEUE_SEND = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"];
const QUEUE_CONSUME = [
  "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage",
];
/** Unconditional use of the payload key: only the health check's DescribeKey. */
const PAYLOAD_KEY_DIRECT: Record<Key, string[]> = { dg: [], d: [], g: [], describe: ["kms:DescribeKey"], "-": [] };
/** Payload key use allowed only with the branch-key encryption context. */
const PAYLOAD_KEY_WITH_CONTEXT: Record<Key, string[]> = {
  dg: ["kms:Decrypt", "kms:GenerateDataKey"], d: ["kms:Decrypt"], g: ["kms:GenerateDataKey"], describe: [], "-": [],
};
const KEY_VIA_DYNAMODB_READ = ["kms:Decrypt", "kms:DescribeKey"];
const KEY_VIA_DYNAMODB_WRITE = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"];

const rows = MATRIX.map(([fn, sync, payments, audit, connections, sends, consumes, redrives, key]) => ({
  fn, tables: { Sync: sync, Payments: payments, Audit: audit, Connections: connections }, sends, consumes, redrives, key,
}));
type Expected = (typeof rows)[number];

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

function tablesReached(access: FunctionAccess): Record<string, Level> {
  const reached: Record<string, Level> = { Sync: "-", Payments: "-", Audit: "-", Connections: "-" };
  for (const [target, actions] of access.resources) {
    if (!target.startsWith("table:")) continue;
    reached[target.slice("table:".length)] = TABLE_WRITE.some((a) => actions.has(a)) ? "rw" : "r";
  }
  return reached;
}

function lanesWith(access: FunctionAccess, kind: "queue" | "dlq", action: string): string[] {
  return sorted(
    [...access.resources].filter(([target, actions]) => target.startsWith(`${kind}:`) && actions.has(action))
      .map(([target]) => target.slice(kind.length + 1)),
  );
}

let synth: SynthesizedApp;
const access = new Map<string, FunctionAccess>();

beforeAll(async () => {
  synth = await synthesize();
  for (const { fn } of rows) access.set(fn, accessOf(synth, findFunction(synth.app, fn)));
});
afterAll(cleanUpArtifacts);

describe("least privilege", () => {
  it("every function of the app has a row in the expected matrix, and no row is left over", () => {
    // Prepare
    const functions = synth.app.node.findAll().filter((c): c is Function => c instanceof Function);

    // Assess
    expect(sorted(functions.map((f) => f.id))).toEqual(sorted(rows.map((r) => r.fn)));
  });

  it.each(rows)("$fn reaches exactly the tables it needs, at the level it needs", ({ fn, tables }: Expected) => {
    // Act
    const function_ = access.get(fn)!;

    // Assess
    expect(tablesReached(function_)).toEqual(tables);
    for (const [target, actions] of function_.resources) {
      if (!target.startsWith("table:")) continue;
      const allowed = tables[target.slice("table:".length) as keyof Expected["tables"]] === "rw"
        ? [...TABLE_READ, ...TABLE_WRITE]
        : TABLE_READ;
      expect(sorted(actions), `${fn} on ${target}`).toEqual(sorted(allowed));
    }
  });

  it.each([
    ["Entitlements", "Sync"],
    ["Jwks", "Payments"],
    ["Crisis", "Payments"],
    ["Devices", "Payments"],
    ["Handoff", "Payments"],
    ["StripeWebhook", "Sync"],
  ])("%s cannot reach the %s table at all", (fn, table) => {
    expect(access.get(fn)!.resources.has(`table:${table}`)).toBe(false);
  });

  it.each(rows)("$fn sends to, consumes and redrives exactly the lanes it should", ({ fn, sends, consumes, redrives }: Expected) => {
    // Act
    const function_ = access.get(fn)!;

    // Assess
    expect(lanesWith(function_, "queue", "sqs:SendMessage")).toEqual(sorted(sends));
    expect(lanesWith(function_, "queue", "sqs:ReceiveMessage")).toEqual(sorted(consumes));
    expect(lanesWith(function_, "dlq", "sqs:ReceiveMessage")).toEqual(sorted(redrives));
    expect(lanesWith(function_, "dlq", "sqs:SendMessage")).toEqual([]);
    const inspects = INSPECTS[fn] ?? [];
    for (const [target, actions] of function_.resources) {
      if (!target.startsWith("queue:") && !target.startsWith("dlq:")) continue;
      const lane = target.slice(target.indexOf(":") + 1) as Lanes[number];
      const allowed = new Set<string>();
      if (inspects.includes(lane)) allowed.add("sqs:GetQueueAttributes");
      if (target.startsWith("queue:") && sends.includes(lane)) QUEUE_SEND.forEach((a) => allowed.add(a));
      if (target.startsWith("queue:") && consumes.includes(lane)) QUEUE_CONSUME.forEach((a) => allowed.add(a));
      if (target.startsWith("dlq:") && redrives.includes(lane)) QUEUE_CONSUME.forEach((a) => allowed.add(a));
      expect(sorted(actions), `${fn} on ${target}`).toEqual(sorted(allowed));
    }
  });

  it.each(rows)("$fn uses the payload key only as its row says ($key), and the data key never directly", ({ fn, key }: Expected) => {
    // Act
    const function_ = access.get(fn)!;

    // Assess
    expect(sorted(function_.resources.get("key:payload") ?? [])).toEqual(sorted(PAYLOAD_KEY_DIRECT[key]));
    expect(sorted(function_.payloadKeyWithContext)).toEqual(sorted(PAYLOAD_KEY_WITH_CONTEXT[key]));
    expect(sorted(function_.resources.get("key") ?? [])).toEqual([]);
  });

  it.each(rows)("$fn gets the key through DynamoDB and SQS only for the tables and lanes it uses", (row: Expected) => {
    // Prepare
    const levels = Object.values(row.tables);
    const viaDynamoDb = levels.includes("rw") ? KEY_VIA_DYNAMODB_WRITE : levels.includes("r") ? KEY_VIA_DYNAMODB_READ : [];
    const viaSqs = row.sends.length + row.redrives.length > 0
      ? ["kms:Decrypt", "kms:GenerateDataKey"]
      : row.consumes.length > 0 ? ["kms:Decrypt"] : [];

    // Act
    const { keyViaService } = access.get(row.fn)!;

    // Assess
    expect(sorted(keyViaService.get("dynamodb") ?? [])).toEqual(sorted(viaDynamoDb));
    expect(sorted(keyViaService.get("sqs") ?? [])).toEqual(sorted(viaSqs));
    expect(sorted(keyViaService.keys()).filter((s) => s !== "dynamodb" && s !== "sqs")).toEqual([]);
  });

  it.each(rows)("$fn has no grant beyond tables, lanes, key, its SSM names and tracing", ({ fn }: Expected) => {
    // Act
    const function_ = access.get(fn)!;
    const unexpected = [...function_.resources.keys()].filter((t) => !/^(table|queue|dlq):|^key(:payload)?$|^\*$/.test(t)
      && !(t === "realtime" && POKERS.includes(fn)) && !(t === "signingKey" && fn in SIGNING_KEY_USERS));
    const wildcardActions = [...(function_.resources.get("*") ?? [])];
    const otherActions = function_.other.flatMap((s) => asList(s.Action));

    // Assess
    expect(unexpected).toEqual([]);
    expect(sorted(wildcardActions)).toEqual(["xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
    expect(otherActions.every((a) => a === "ssm:GetParameters")).toBe(true);
  });

  it.each(rows)("the environment of $fn names exactly the tables and queues it may reach", (row: Expected) => {
    // Prepare
    const expected = [
      ...Object.entries(row.tables).filter(([, level]) => level !== "-").map(([t]) => `SST_Table_tableName_${t}`),
      ...[...new Set([...row.sends, ...row.redrives, ...(INSPECTS[row.fn] ?? [])])].map((lane) => `SST_Queue_queueUrl_${lane}`),
      ...[...new Set([...row.redrives, ...(INSPECTS[row.fn] ?? [])])].map((lane) => `SST_Queue_queueUrl_${lane}Dlq`),
    ];

    // Act
    const fn = findFunction(synth.app, row.fn);
    const template = synth.byStackName.get(fn.stack.stackName)!.toJSON() as {
      Resources: Record<string, { Type: string; Properties: { Environment?: { Variables: Record<string, unknown> } } }>;
    };
    const resource = template.Resources[logicalIdOf(fn, fn.stack)]!;
    const names = Object.keys(resource.Properties.Environment?.Variables ?? {})
      .filter((name) => name.startsWith("SST_Table_") || name.startsWith("SST_Queue_"));

    // Assess
    expect(sorted(names)).toEqual(sorted(expected));
  });

  it.each(rows)("$fn uses the entitlement signing key only as its role says (Sign: Entitlements, GetPublicKey: Jwks)", ({ fn }: Expected) => {
    // Act
    const function_ = access.get(fn)!;
    const onSigningKey = function_.resources.get("signingKey") ?? new Set<string>();
    const signingViaService = [...function_.keyViaService.values()].flatMap((actions) => [...actions]).filter((a) => a === "kms:Sign" || a === "kms:GetPublicKey");

    // Assess
    expect(sorted(onSigningKey)).toEqual(sorted(SIGNING_KEY_USERS[fn] ?? []));
    expect(signingViaService).toEqual([]);
  });

  it("the signing key is an ECC_NIST_P256 SIGN_VERIFY key whose own policy names no function as a principal", () => {
    // Prepare
    const keys = synth.templates.storage.findResources("AWS::KMS::Key") as Record<string, { Properties: { KeySpec?: string; KeyUsage?: string; EnableKeyRotation?: boolean; KeyPolicy: { Statement: { Principal?: unknown; Action: unknown }[] } } }>;

    // Act
    const signing = Object.values(keys).filter((k) => k.Properties.KeyUsage === "SIGN_VERIFY");

    // Assess
    expect(signing).toHaveLength(1);
    expect(signing[0]!.Properties).toMatchObject({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
    expect(signing[0]!.Properties.EnableKeyRotation).not.toBe(true);
    // The roles are narrowed by condition (key-policy.test.ts); no statement names a function or lambda as principal.
    expect(JSON.stringify(signing[0]!.Properties.KeyPolicy.Statement.map((st) => st.Principal))).not.toMatch(/lambda|role\//i);
  });

  it("only the functions that poke may post to WebSocket connections, and only POST to connections", () => {
    // Act
    const posting = rows.map((r) => r.fn).filter((fn) => access.get(fn)!.resources.has("realtime"));

    // Assess
    expect(sorted(posting)).toEqual(sorted(POKERS));
    for (const fn of POKERS) expect(sorted(access.get(fn)!.resources.get("realtime")!)).toEqual(["execute-api:ManageConnections"]);
    const statements = allStatements(synth).filter((st) => asList(st.Action).includes("execute-api:ManageConnections"));
    for (const statement of statements) expect(JSON.stringify(statement.Resource)).toContain("/POST/@connections/*");
  });

  it.each(rows)("$fn is told the management endpoint only if it pokes", ({ fn }: Expected) => {
    // Act
    const function_ = findFunction(synth.app, fn);
    const template = synth.byStackName.get(function_.stack.stackName)!.toJSON() as {
      Resources: Record<string, { Properties: { Environment?: { Variables: Record<string, unknown> } } }>;
    };
    const variables = template.Resources[logicalIdOf(function_, function_.stack)]!.Properties.Environment?.Variables ?? {};

    // Assess
    expect("PAYSYNC_REALTIME_ENDPOINT" in variables).toBe(POKERS.includes(fn));
  });

  it.each(Object.entries(SECRET_READERS))("only the functions that need it may read the %s secret, and decrypt it", (secret, readers) => {
    // Act
    const canRead = rows.map((r) => r.fn).filter((fn) =>
      access.get(fn)!.other.some((s) =>
        asList(s.Action).includes("ssm:GetParameters") && JSON.stringify(s.Resource).includes(`/Secret/${secret}/value`)));
    const canDecrypt = rows.map((r) => r.fn).filter((fn) =>
      access.get(fn)!.secretsKeyParameters.some((parameter) => parameter.includes(`/ci/Secret/${secret}/value`)));

    // Assess
    expect(sorted(canRead)).toEqual(sorted(readers));
    expect(sorted(canDecrypt)).toEqual(sorted(readers));
  });

  it("no policy in any stack grants a whole service or every resource for DynamoDB, SQS or KMS", () => {
    // Prepare
    const sensitive = /^(dynamodb|sqs|kms):/;

    // Act
    const offending = allStatements(synth).filter((statement) => {
      const actions = asList(statement.Action);
      const touchesData = actions.some((a) => a === "*" || sensitive.test(a));
      const wholeService = actions.some((a) => a === "*" || /^(dynamodb|sqs|kms):\*$/.test(a));
      const everyResource = asList(statement.Resource).includes("*");
      return statement.Effect === "Allow" && touchesData && (wholeService || everyResource || statement.NotAction);
    });

    // Assess
    expect(offending).toEqual([]);
  });
});
