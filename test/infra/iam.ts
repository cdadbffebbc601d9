import { Stack } from "aws-cdk-lib";
import type { Function } from "sst/constructs";
import { logicalIdOf, type SynthesizedApp } from "./synth.js";

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
  /** Unconditional grants: `table:Sync`, `queue:Realtime`, `dlq:Realtime`, `key` → actions. */
  resources: Map<string, Set<string>>;
  /** KMS actions on the key allowed only through a service (`kms:ViaService`), by service. */
  keyViaService: Map<string, Set<string>>;
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
  const access: FunctionAccess = { resources: new Map(), keyViaService: new Map(), other: [] };
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

function isRef(value: unknown, logicalId: string): boolean {
  return typeof value === "object" && value !== null && (value as { Ref?: unknown }).Ref === logicalId;
}
