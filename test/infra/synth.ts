import { rm } from "node:fs/promises";
import path from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { Stack, type CfnElement } from "aws-cdk-lib";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { IConstruct } from "constructs";
import { App, Function, Queue, Table, WebSocketApi, getStack } from "sst/constructs";
import { initProject, useProject } from "sst/project.js";
import sstConfig from "../../sst.config.js";
import { Alarms } from "../../stacks/Alarms.js";
import { Api } from "../../stacks/Api.js";
import { Jobs } from "../../stacks/Jobs.js";
import { Queues } from "../../stacks/Queues.js";
import { Realtime } from "../../stacks/Realtime.js";
import { Storage } from "../../stacks/Storage.js";

/**
 * Synthesizes the SST app offline, in-process, exactly as `sst deploy` would build it (see
 * shared/notes/sst-offline.md), once per test file.
 */
export interface SynthesizedApp {
  app: App;
  stacks: { storage: Stack; realtime: Stack; queues: Stack; api: Stack; jobs: Stack; alarms: Stack };
  templates: { storage: Template; realtime: Template; queues: Template; api: Template; jobs: Template; alarms: Template };
  /** Every stack's template, by stack name. */
  byStackName: Map<string, Template>;
  /** How long stacks() + finish() (bundling every function) took. */
  synthMs: number;
  /**
   * What a template value (an ARN in a policy, a queue's key id …) refers to, following
   * Ref, Fn::GetAtt, Fn::Join (`<table arn>/index/*`) and cross-stack Fn::ImportValue:
   * `table:<id>`, `queue:<lane>`, `dlq:<lane>`, `key` (tables and lanes), `key:payload`, `key:secrets`,
   * `signingKey` (the entitlement signing key), `realtime` (the WebSocket API), `*`, or
   * undefined for anything else.
   */
  refersTo(stackName: string, value: unknown): string | undefined;
}

/** The deploy-time environment the tests synthesize with. */
export const SYNTH_ENV = {
  PAYSYNC_JWT_ISSUER: "https://idp.example.test/paysync",
  PAYSYNC_JWT_AUDIENCE: "paysync-ios,paysync-web",
};

let synthesized: Promise<SynthesizedApp> | undefined;

export function synthesize(): Promise<SynthesizedApp> {
  synthesized ??= run();
  return synthesized;
}

async function run(): Promise<SynthesizedApp> {
  process.env.NODE_ENV = "test"; // else SST looks up the AWS bootstrap stack
  await initProject({ stage: "ci" });
  const project = useProject();
  // Test files synthesize in parallel workers; each bundles into its own artifacts folder so
  // one worker's clean-up never removes what another is zipping.
  project.paths.artifacts = path.join(project.paths.out, "artifacts", `vitest-infra-${process.pid}`);
  // Deploy-time configuration, pinned so the templates do not depend on the shell or .env files.
  Object.assign(process.env, SYNTH_ENV);
  delete process.env.PAYSYNC_PRICE_TIERS;
  delete process.env.PAYSYNC_ALARM_EMAIL;
  const started = performance.now();
  const app = new App({
    mode: "deploy",
    stage: "ci",
    name: project.config.name,
    region: project.config.region,
    account: "123456789012",
  });
  await sstConfig.stacks(app);
  await app.finish();
  const synthMs = performance.now() - started;
  const stacks = {
    storage: getStack(Storage),
    realtime: getStack(Realtime),
    queues: getStack(Queues),
    api: getStack(Api),
    jobs: getStack(Jobs),
    alarms: getStack(Alarms),
  };
  const templates = {
    storage: Template.fromStack(stacks.storage),
    realtime: Template.fromStack(stacks.realtime),
    queues: Template.fromStack(stacks.queues),
    api: Template.fromStack(stacks.api),
    jobs: Template.fromStack(stacks.jobs),
    alarms: Template.fromStack(stacks.alarms),
  };
  const byStackName = new Map(Object.values(stacks).map((stack, i) => [stack.stackName, Object.values(templates)[i]!]));
  return { app, stacks, templates, byStackName, synthMs, refersTo: referenceResolver(app, byStackName) };
}

function referenceResolver(app: App, byStackName: Map<string, Template>): SynthesizedApp["refersTo"] {
  const named = new Map<string, string>();
  const name = (construct: IConstruct, resource: IConstruct, label: string) => {
    const stack = Stack.of(construct);
    named.set(`${stack.stackName}/${logicalIdOf(resource, stack)}`, label);
  };
  for (const c of app.node.findAll()) {
    if (c instanceof Table) name(c, c.cdk.table, `table:${c.id}`);
    else if (c instanceof Queue) name(c, c.cdk.queue, `queue:${c.id}`);
    else if (c instanceof sqs.Queue && c.node.scope instanceof Stack) name(c, c, `dlq:${c.node.id.replace(/Dlq$/, "")}`);
    else if (c instanceof kms.Key) name(c, c, c.node.id === "PayloadKey" ? "key:payload" : c.node.id === "SecretsKey" ? "key:secrets" : c.node.id === "EntitlementSigningKey" ? "signingKey" : "key");
    else if (c instanceof WebSocketApi) name(c, c.cdk.webSocketApi, "realtime");
  }
  const exports = new Map<string, { stackName: string; value: unknown }>();
  for (const [stackName, template] of byStackName) {
    const outputs = (template.toJSON() as { Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }> }).Outputs ?? {};
    for (const output of Object.values(outputs)) {
      if (output.Export) exports.set(output.Export.Name, { stackName, value: output.Value });
    }
  }
  const resolve = (stackName: string, value: unknown): string | undefined => {
    if (value === "*") return "*";
    if (typeof value !== "object" || value === null) return undefined;
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === "string") return named.get(`${stackName}/${v.Ref}`);
    if (Array.isArray(v["Fn::GetAtt"])) return named.get(`${stackName}/${String(v["Fn::GetAtt"][0])}`);
    if (typeof v["Fn::ImportValue"] === "string") {
      const exported = exports.get(v["Fn::ImportValue"]);
      return exported && resolve(exported.stackName, exported.value);
    }
    if (Array.isArray(v["Fn::Join"])) {
      const parts = (v["Fn::Join"][1] ?? []) as unknown[];
      return parts.map((part) => resolve(stackName, part)).find((found) => found !== undefined);
    }
    return undefined;
  };
  return resolve;
}

/** Removes this worker's bundles (call from afterAll). */
export async function cleanUpArtifacts(): Promise<void> {
  await rm(useProject().paths.artifacts, { recursive: true, force: true });
}

/** The logical id a construct's CloudFormation resource has in its stack's template. */
export function logicalIdOf(construct: IConstruct, stack: Stack): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The SST Function created for a FUNCTIONS id (construct id = function id). */
export function findFunction(app: App, id: string): Function {
  const found = app.node.findAll().filter((c): c is Function => c instanceof Function && c.id === id);
  if (found.length !== 1) throw new Error(`expected one Function ${id}, found ${found.length}`);
  return found[0]!;
}

// ---- IAM policies as synthesized ----


/** One IAM policy statement as CloudFormation writes it. */
export interface Statement {
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

interface PolicyResource {
  Type: string;
  Properties: {
    Roles?: unknown[];
    PolicyDocument?: { Statement: Statement[] };
    Policies?: { PolicyDocument: { Statement: Statement[] } }[];
  };
}

/** What one function's role may do, read back from the synthesized IAM policies. */
export interface FunctionAccess {
  /** Unconditional grants: `table:Sync`, `queue:Realtime`, `dlq:Realtime`, `key`, `key:payload` → actions. */
  resources: Map<string, Set<string>>;
  /** KMS actions on the data key allowed only through a service (`kms:ViaService`), by service. */
  keyViaService: Map<string, Set<string>>;
  /** KMS actions on the payload key allowed only with exactly the branch-key encryption context. */
  payloadKeyWithContext: Set<string>;
  /** SSM parameters (JSON of their ARNs) whose secrets-key decryption, through SSM, is allowed. */
  secretsKeyParameters: string[];
  /** Statements with any other condition, or on resources that resolve to nothing known. */
  other: Statement[];
}

export function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Every policy statement in every stack (roles' inline policies and AWS::IAM::Policy). */
export function allStatements(synth: SynthesizedApp): Statement[] {
  const statements: Statement[] = [];
  for (const template of synth.byStackName.values()) {
    for (const resource of Object.values(template.toJSON().Resources as Record<string, PolicyResource>)) {
      statements.push(...(resource.Properties?.PolicyDocument?.Statement ?? []));
      if (resource.Type === "AWS::IAM::Role") {
        for (const policy of resource.Properties.Policies ?? []) statements.push(...policy.PolicyDocument.Statement);
      }
    }
  }
  return statements;
}

/** The statements attached to a function's execution role. */
export function statementsOf(synth: SynthesizedApp, fn: Function): Statement[] {
  const stack = Stack.of(fn);
  const template = synth.byStackName.get(stack.stackName);
  if (!template || !fn.role) throw new Error(`no template or role for ${fn.id}`);
  const roleId = logicalIdOf(fn.role, stack);
  const statements: Statement[] = [];
  for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, PolicyResource>)) {
    if (resource.Type === "AWS::IAM::Policy" && asList(resource.Properties.Roles).some((r) => isRef(r, roleId))) {
      statements.push(...(resource.Properties.PolicyDocument?.Statement ?? []));
    }
    if (resource.Type === "AWS::IAM::Role" && id === roleId) {
      for (const policy of resource.Properties.Policies ?? []) statements.push(...policy.PolicyDocument.Statement);
    }
  }
  return statements;
}

export function accessOf(synth: SynthesizedApp, fn: Function): FunctionAccess {
  const stackName = Stack.of(fn).stackName;
  const access: FunctionAccess = { resources: new Map(), keyViaService: new Map(), payloadKeyWithContext: new Set(), secretsKeyParameters: [], other: [] };
  for (const statement of statementsOf(synth, fn)) {
    if (statement.Effect !== "Allow") continue;
    const actions = asList(statement.Action);
    const targets = asList(statement.Resource).map((r) => synth.refersTo(stackName, r));
    const viaService = statement.Condition?.StringEquals?.["kms:ViaService"];
    const onlyViaService = statement.Condition !== undefined &&
      Object.keys(statement.Condition).length === 1 &&
      Object.keys(statement.Condition.StringEquals ?? {}).length === 1 &&
      typeof viaService === "string";
    if (onlyViaService && targets.every((t) => t === "key") && actions.every((a) => a.startsWith("kms:"))) {
      const service = viaService.split(".")[0]!;
      const set = access.keyViaService.get(service) ?? new Set<string>();
      actions.forEach((a) => set.add(a));
      access.keyViaService.set(service, set);
      continue;
    }
    if (isBranchKeyContext(statement.Condition) && targets.every((t) => t === "key:payload") && actions.every((a) => a.startsWith("kms:"))) {
      actions.forEach((a) => access.payloadKeyWithContext.add(a));
      continue;
    }
    const parameters = statement.Condition?.StringEquals?.["kms:EncryptionContext:PARAMETER_ARN"];
    if (parameters !== undefined && typeof viaService === "string" && viaService.startsWith("ssm.") && Object.keys(statement.Condition!).length === 1 &&
      targets.every((t) => t === "key:secrets") && actions.length === 1 && actions[0] === "kms:Decrypt") {
      access.secretsKeyParameters.push(...asList(parameters).map((p) => JSON.stringify(p)));
      continue;
    }
    if (statement.Condition !== undefined || statement.NotAction || statement.NotResource) {
      access.other.push(statement);
      continue;
    }
    const known = targets.filter((t): t is string => t !== undefined);
    if (known.length === 0) {
      access.other.push(statement);
      continue;
    }
    for (const target of known) {
      const set = access.resources.get(target) ?? new Set<string>();
      actions.forEach((a) => set.add(a));
      access.resources.set(target, set);
    }
  }
  return access;
}

/** The condition the envelope's KMS calls satisfy: exactly `{ purpose: "paysync-branch-key" }`. */
function isBranchKeyContext(condition: Statement["Condition"]): boolean {
  return JSON.stringify(condition) === JSON.stringify({
    StringEquals: { "kms:EncryptionContext:purpose": "paysync-branch-key" },
    "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["purpose"] },
  });
}

function isRef(value: unknown, logicalId: string): boolean {
  return typeof value === "object" && value !== null && (value as { Ref?: unknown }).Ref === logicalId;
}
