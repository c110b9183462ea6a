// ECR's heavy dependency: what the ecr provider uses of the AWS SDK's ECR, ECR Public and STS
// clients, in one module, so that their shared smithy code is bundled once. ecr.ts imports it with
// import() on its first request, so that the bundle keeps it as a deferred section of its own
// (src/startup/deferred.ts), bundled from the packages' ES module builds, where only these names are kept:
// 352 KB instead of 551 KB, about 20 ms less to compile on an ECR cache miss.
import { ECRClient, GetAuthorizationTokenCommand as EcrGetAuthorizationToken } from "@aws-sdk/client-ecr";
import { ECRPUBLICClient, GetAuthorizationTokenCommand as PublicGetAuthorizationToken } from "@aws-sdk/client-ecr-public";
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";

export const ECR = { ECRClient, GetAuthorizationTokenCommand: EcrGetAuthorizationToken };
export const ECRPublic = { ECRPUBLICClient, GetAuthorizationTokenCommand: PublicGetAuthorizationToken };
export const STS = { STSClient, AssumeRoleCommand, AssumeRoleWithWebIdentityCommand };
