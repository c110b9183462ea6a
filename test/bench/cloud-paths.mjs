// Benchmark entries for the cloud providers (the shape of test/bench/paths.mjs): ECR's cache miss and
// cache hit, and one cache-miss exec per other cloud provider, each against the loopback server its
// tests use. A miss has a cache directory, as on a node, whose credential entries are removed before
// each sample (its code caches stay: a node keeps them). The servers are the test helpers
// transpiled by `node build.mjs --tests` (.build/test/helpers/*-server.js).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const requestFor = (image) => `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image })}\n`;

export async function cloudBenchPaths({ root, work }) {
  const require = createRequire(path.join(root, "package.json"));
  const { createGcpServer } = require("./.build/test/helpers/gcp-server.js");
  const { createAzureServer } = require("./.build/test/helpers/azure-server.js");
  const { createAlibabaServer } = require("./.build/test/helpers/alibaba-server.js");
  const { createAwsServer } = require("./.build/test/helpers/aws-server.js");
  const bundle = path.join(root, "dist", "credmux.cjs");
  const writeJson = (name, value) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, JSON.stringify(value));
    return file;
  };
  const missConfig = (name, provider) => writeJson(`${name}.json`, { apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: path.join(work, `${name}-cache`) }, providers: [provider] });
  /** Removes the credential entries of a miss path's cache directory (never its code caches). */
  const forgetCredentials = (name) => () => {
    const dir = path.join(work, `${name}-cache`);
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) if (entry.endsWith(".json")) fs.rmSync(path.join(dir, entry));
  };
  const sea = path.join(root, "dist", `credmux-linux-${process.arch}`);
  const aws = await createAwsServer();
  const awsKey = { accessKeyId: "AKIDBENCHNODE", secretAccessKey: "bench-node-secret" };
  aws.addIdentity(awsKey);
  const awsEnv = {
    AWS_ACCESS_KEY_ID: awsKey.accessKeyId, AWS_SECRET_ACCESS_KEY: awsKey.secretAccessKey, AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_ECR: aws.url, HOME: work,
  };
  const ecrImage = "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app";
  const gcp = await createGcpServer();
  const azure = await createAzureServer();
  const alibaba = await createAlibabaServer();
  alibaba.accessKeys.set("LTAIbench", "bench-secret");
  fs.writeFileSync(path.join(work, "alibaba-ak-secret"), "bench-secret");
  return [
    {
      name: "ecr cache miss (GetAuthorizationToken through the AWS SDK)",
      beforeSample: forgetCredentials("ecr-miss"),
      args: [bundle, "--config", missConfig("ecr-miss", { name: "ecr", type: "ecr" })],
      input: requestFor(ecrImage),
      env: awsEnv,
      target: 2.5,
      close: () => aws.close(),
    },
    {
      name: "ecr cache hit (disk)",
      args: [bundle, "--config", writeJson("ecr-hit.json", { apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: path.join(work, "ecr-cache") }, providers: [{ name: "ecr", type: "ecr" }] })],
      input: requestFor(ecrImage),
      env: awsEnv,
      target: 1.3,
    },
    {
      name: "gcp cache miss (metadata token)",
      beforeSample: forgetCredentials("gcp-miss"),
      args: [bundle, "--config", missConfig("gcp-miss", { name: "gcp", type: "gcp", metadataEndpoint: gcp.metadataUrl })],
      input: requestFor("us-docker.pkg.dev/project/repo/app"),
      close: () => gcp.close(),
    },
    {
      name: "acr cache miss (IMDS, /v2/ challenge, exchange)",
      beforeSample: forgetCredentials("acr-miss"),
      args: [bundle, "--config", missConfig("acr-miss", { name: "acr", type: "acr", imdsEndpoint: azure.imdsUrl, registryEndpoint: azure.registryEndpoint })],
      input: requestFor("myregistry.azurecr.io/team/app"),
      close: () => azure.close(),
    },
    {
      name: "alibaba cache miss (access key, signed GetAuthorizationToken)",
      beforeSample: forgetCredentials("alibaba-miss"),
      args: [bundle, "--config", missConfig("alibaba-miss", { name: "alibaba", type: "alibaba", apiEndpoint: alibaba.url, accessKeyId: "LTAIbench", accessKeySecretFile: path.join(work, "alibaba-ak-secret") })],
      input: requestFor("registry.cn-hangzhou.aliyuncs.com/ns/app"),
      close: () => alibaba.close(),
    },
    {
      name: "alibaba cache miss (ECS RAM role: metadata token, role, credentials, API)",
      beforeSample: forgetCredentials("alibaba-ecs-miss"),
      args: [bundle, "--config", missConfig("alibaba-ecs-miss", { name: "alibaba", type: "alibaba", apiEndpoint: alibaba.url, metadataEndpoint: alibaba.url })],
      input: requestFor("registry.cn-hangzhou.aliyuncs.com/ns/app"),
    },
    // The single executable (npm run build:sea), with the code caches made at build time.
    ...(fs.existsSync(sea) ? [
      {
        name: "single executable: ecr cache miss",
        beforeSample: forgetCredentials("ecr-miss"),
        command: sea,
        args: ["--config", path.join(work, "ecr-miss.json")],
        input: requestFor(ecrImage),
        env: awsEnv,
      },
      { name: "single executable: ecr cache hit", command: sea, args: ["--config", path.join(work, "ecr-hit.json")], input: requestFor(ecrImage), env: awsEnv },
    ] : []),
  ];
}
