/**
 * Sets a stage's secret under its secrets key (not `aws/ssm`, which `npx sst secrets set`
 * uses): `npm run secrets -- set --stage prod STRIPE_WEBHOOK_SECRET < value.txt`, or
 * `npm run secrets -- set --stage prod PSEUDONYM_SECRET --generate` (32 random bytes, hex). The
 * value is read from stdin and never printed; the operator can write it but not read it back.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { PSEUDONYM_SECRET_BYTES, pseudonymSecretProblem } from "@paysync/core/pii";
import { SECRETS, type SecretName } from "@paysync/aws/resources";
import sstConfig from "../sst.config.js";
import { secretParameterName, secretsKeyAlias } from "../stacks/stage.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { stage: { type: "string" }, generate: { type: "boolean", default: false }, region: { type: "string" } },
  });
  const [command, secret] = positionals;
  const { name, region: defaultRegion } = sstConfig.config();
  if (command !== "set" || !values.stage || !SECRETS.includes(secret as SecretName)) {
    throw new Error(`usage: npm run secrets -- set --stage <stage> <${SECRETS.join("|")}> [--generate] < value`);
  }
  if (values.generate && secret !== "PSEUDONYM_SECRET") throw new Error("--generate is for PSEUDONYM_SECRET only: other secrets come from their issuer");
  const value = values.generate ? randomBytes(PSEUDONYM_SECRET_BYTES).toString("hex") : await readStdin();
  if (value === "") throw new Error("no value on stdin");
  if (secret === "PSEUDONYM_SECRET") {
    const problem = pseudonymSecretProblem(value);
    if (problem !== undefined) throw new Error(problem);
  }
  const stage = { name, stage: values.stage };
  const region = values.region ?? defaultRegion;
  await new SSMClient({ region }).send(new PutParameterCommand({
    Name: secretParameterName(stage, secret!),
    Type: "SecureString",
    KeyId: secretsKeyAlias(stage),
    Value: value,
    Overwrite: true,
  }));
  console.log(`${secret} set for stage ${values.stage} under ${secretsKeyAlias(stage)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
