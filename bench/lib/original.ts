/**
 * The original tool's algorithm (GHS-AKM), reimplemented here only to measure it beside ours: delete every access
 * key of the user, create a new one, then for each repository in turn GET its public key and PUT the two secrets —
 * as fast as the connection allows, with no pacing and no retry, sealing with tweetsodium. A request that fails
 * leaves that repository as it is and the loop moves on.
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  ListAccessKeysCommand,
} from "@aws-sdk/client-iam";
import tweetsodium from "tweetsodium";
import { awsClientConfig } from "../../scripts/local-stack/aws-fixtures.ts";
import type { DowntimeMonitor } from "./downtime.ts";
import type { BenchStack } from "./stack.ts";

export interface OriginalOutcome {
  readonly newAccessKeyId: string;
  /** Repositories where a request failed (left with the deleted key, or half written). */
  readonly failedRepos: readonly string[];
}

export async function runOriginal(
  stack: BenchStack,
  motoEndpoint: string,
  monitor: DowntimeMonitor,
): Promise<OriginalOutcome> {
  const iam = new IAMClient(awsClientConfig(motoEndpoint));
  try {
    const { AccessKeyMetadata = [] } = await iam.send(
      new ListAccessKeysCommand({ UserName: stack.userName }),
    );
    for (const key of AccessKeyMetadata) {
      await iam.send(new DeleteAccessKeyCommand({ UserName: stack.userName, AccessKeyId: key.AccessKeyId }));
    }
    await monitor.iamChanged();
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: stack.userName }));
    if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error("moto returned no access key");
    monitor.knowSecret(AccessKey.AccessKeyId, AccessKey.SecretAccessKey);
    await monitor.iamChanged();

    const failedRepos: string[] = [];
    for (const repo of stack.repos) {
      const ok = await writeRepo(stack, repo, [
        [stack.keyIdSecretName, AccessKey.AccessKeyId],
        [stack.secretKeySecretName, AccessKey.SecretAccessKey],
      ]);
      if (!ok) failedRepos.push(repo);
    }
    return { newAccessKeyId: AccessKey.AccessKeyId, failedRepos };
  } finally {
    iam.destroy();
  }
}

async function writeRepo(stack: BenchStack, repo: string, secrets: [string, string][]): Promise<boolean> {
  const headers = {
    authorization: `token ${stack.token}`,
    accept: "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
    "content-type": "application/json",
    "user-agent": "ghs-akm-original-bench",
  };
  const base = `${stack.github.url}/repos/${repo}/actions/secrets`;
  try {
    const keyResponse = await fetch(`${base}/public-key`, { headers });
    if (!keyResponse.ok) return false;
    const { key, key_id } = (await keyResponse.json()) as { key: string; key_id: string };
    const publicKey = Buffer.from(key, "base64");
    let ok = true;
    for (const [name, value] of secrets) {
      const sealed = tweetsodium.seal(Buffer.from(value), publicKey);
      const response = await fetch(`${base}/${name}`, {
        method: "PUT",
        headers,
        body: JSON.stringify({ encrypted_value: Buffer.from(sealed).toString("base64"), key_id }),
      });
      await response.arrayBuffer();
      if (!response.ok) ok = false;
    }
    return ok;
  } catch {
    return false;
  }
}
