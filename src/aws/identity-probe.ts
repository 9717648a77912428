import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from "@aws-sdk/client-sts";
import type { AccessKeyPair } from "../domain/access-key.ts";
import { AkmError, KeyNotAcceptedError } from "../errors.ts";
import type { IdentityProbe } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure } from "./aws-failure.ts";

/** Client settings shared with the Lambda's other clients; credentials always come from the probed key. */
export type StsProbeConfig = Omit<STSClientConfig, "credentials">;

// The codes STS answers with for a key it does not (yet) know or whose secret does not match.
const NOT_ACCEPTED = new Set([
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "AuthFailure",
  "UnrecognizedClientException",
]);

/**
 * IdentityProbe over STS GetCallerIdentity, signed with the key under test through a client of its own.
 * Region and endpoint come from `config` or, as for every SDK client, from AWS_REGION and
 * AWS_ENDPOINT_URL(_STS): the SDK resolves those independently of explicit credentials.
 * It does not retry a refused key: retrying is the lifecycle's decision, timed by its injected clock.
 */
export class StsIdentityProbe implements IdentityProbe {
  readonly #config: StsProbeConfig;

  constructor(config: StsProbeConfig = {}) {
    this.#config = config;
  }

  async callerArn(key: AccessKeyPair): Promise<string> {
    const sts = new STSClient({
      ...this.#config,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey.reveal() },
    });
    try {
      const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
      if (!Arn) {
        throw new AkmError(`sts:GetCallerIdentity with access key ${key.accessKeyId} returned no ARN.`, {
          fix: "Re-run the runbook; if it fails again, open an issue with the Lambda log.",
          fault: "tool",
        });
      }
      return Arn;
    } catch (error) {
      const code = awsErrorCode(error);
      if (code !== undefined && NOT_ACCEPTED.has(code))
        throw new KeyNotAcceptedError(key.accessKeyId, code, error);
      throw awsFailure(error, { action: "sts:GetCallerIdentity", resource: `access key ${key.accessKeyId}` });
    } finally {
      sts.destroy();
    }
  }
}
