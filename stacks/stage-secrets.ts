import { DescribeParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { StageName, StoredSecret } from "./stage.js";

/**
 * The stage's secret parameters as SSM describes them: names and keys, never values (the
 * deployer cannot decrypt them: the secrets key admits only the functions).
 */
export async function describeStageSecrets(stage: StageName, client = new SSMClient({ region: stage.region })): Promise<StoredSecret[]> {
  const found: StoredSecret[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new DescribeParametersCommand({
      ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: [`/sst/${stage.name}/${stage.stage}/Secret`] }],
      NextToken: nextToken,
    }));
    for (const parameter of page.Parameters ?? []) {
      if (parameter.Name !== undefined) found.push({ name: parameter.Name, keyId: parameter.KeyId });
    }
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return found;
}
