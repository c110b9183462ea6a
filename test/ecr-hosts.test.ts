// ECR host recognition (the upstream plugin's table, test/fixtures/ecr-cases.json), the provider's
// default patterns, and the API endpoint each host leads to: the AWS SDK's own endpoint resolution,
// with the client config the provider builds and no endpoint configured, captured at the request
// handler (test/fixtures/ecr/endpoints.json).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { matchImage } from "../src/match.js";
import type { EcrSdk } from "../providers/ecr.js";
import { awsClientConfig, configuredEndpoint, endpointConfig, type AwsService, type CallSettings } from "../providers/ecr-endpoints.js";
import { ECR_DEFAULT_MATCH_IMAGES, ecrRegistryFromHost, registryHostOfImage } from "../providers/ecr-hosts.js";
import { FIXTURES } from "./helpers/paths.js";

interface EcrCase {
  image: string;
  registry: string;
  region: string;
  valid: boolean;
}

const cases = JSON.parse(fs.readFileSync(path.join(FIXTURES, "ecr-cases.json"), "utf8")) as EcrCase[];
const endpoints = JSON.parse(fs.readFileSync(path.join(FIXTURES, "ecr", "endpoints.json"), "utf8")) as Array<{ host: string; api: string; sts: string }>;
const SETTINGS: CallSettings = { maxAttempts: 1, requestTimeoutMs: 1000, imdsTimeoutMs: 1000, imdsV1Fallback: false };

test("ecr-cases.json: every case's registry host, region and validity", () => {
  assert.ok(cases.length >= 45);
  for (const c of cases) {
    const host = registryHostOfImage(c.image);
    assert.equal(host, c.registry, `registry host of ${JSON.stringify(c.image)}`);
    const registry = ecrRegistryFromHost(host);
    assert.equal(registry !== undefined, c.valid, `validity of ${JSON.stringify(c.registry)}`);
    assert.equal(registry?.region ?? "", c.region, `region of ${JSON.stringify(c.registry)}`);
  }
});

test("a private host gives its account and variant; the public hosts give ECR Public in us-east-1", () => {
  const table: Array<[host: string, expected: ReturnType<typeof ecrRegistryFromHost>]> = [
    ["111122223333.dkr.ecr.us-west-2.amazonaws.com", { kind: "private", account: "111122223333", region: "us-west-2", fips: false, dualStack: false }],
    ["111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com", { kind: "private", account: "111122223333", region: "us-gov-west-1", fips: true, dualStack: false }],
    ["111122223333.dkr-ecr.eu-west-1.on.aws", { kind: "private", account: "111122223333", region: "eu-west-1", fips: false, dualStack: true }],
    ["111122223333.dkr-ecr-fips.us-east-1.on.aws", { kind: "private", account: "111122223333", region: "us-east-1", fips: true, dualStack: true }],
    ["111122223333.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", { kind: "private", account: "111122223333", region: "cn-northwest-1", fips: false, dualStack: true }],
    ["public.ecr.aws", { kind: "public", region: "us-east-1", fips: false, dualStack: false }],
    ["ecr-public.aws.com", { kind: "public", region: "us-east-1", fips: false, dualStack: true }],
    ["111122223333.dkr.ecr.us-west-2.amazonaws.com.evil.test", undefined],
  ];
  for (const [host, expected] of table) assert.deepEqual(ecrRegistryFromHost(host), expected, host);
});

test("the default patterns cover every real ECR host of the cases, and no other host but four a glob cannot tell apart", () => {
  const covered = (host: string) => ECR_DEFAULT_MATCH_IMAGES.some((pattern) => matchImage(pattern, host));
  // The upstream grammar also accepts shapes AWS never uses ("dkr-ecr." under amazonaws.com); the
  // cases hold none, so every valid case must be a real shape the defaults cover.
  for (const c of cases.filter((c) => c.valid)) assert.ok(covered(c.registry), `no default pattern matches ${c.registry}`);
  // A glob cannot check the account's digits or the region's characters: these few reach the
  // provider, which then treats them as hosts that are not ECR's (default region, a notice).
  const globOnly = new Set([
    "1234567890123.dkr.ecr.lala-land-1.amazonaws.com",
    "12345678901.dkr.ecr.lala-land-1.amazonaws.com",
    "12345678901A.dkr.ecr.lala-land-1.amazonaws.com",
    "123456789012.dkr.ecr.lala-land-1!.amazonaws.com",
  ]);
  for (const c of cases.filter((c) => !c.valid && c.registry !== "")) {
    assert.equal(covered(c.registry), globOnly.has(c.registry), `default patterns and ${c.registry}`);
  }
  for (const pattern of ECR_DEFAULT_MATCH_IMAGES) {
    assert.ok(cases.some((c) => c.valid && matchImage(pattern, c.registry)), `default pattern ${pattern} matches no case`);
  }
});

test("a configured endpoint: the option, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, unless ignored", () => {
  const table: Array<[service: AwsService, explicit: string | undefined, env: Record<string, string>, expected: string | undefined]> = [
    ["ecr", undefined, {}, undefined],
    ["ecr", undefined, { AWS_ENDPOINT_URL: "http://all" }, "http://all"],
    ["ecr", undefined, { AWS_ENDPOINT_URL: "http://all", AWS_ENDPOINT_URL_ECR: "http://ecr" }, "http://ecr"],
    ["ecr-public", undefined, { AWS_ENDPOINT_URL_ECR: "http://ecr", AWS_ENDPOINT_URL_ECR_PUBLIC: "http://public" }, "http://public"],
    ["sts", undefined, { AWS_ENDPOINT_URL_ECR: "http://ecr" }, undefined],
    ["sts", undefined, { AWS_ENDPOINT_URL_STS: "http://sts" }, "http://sts"],
    ["ecr", "http://option", { AWS_ENDPOINT_URL_ECR: "http://ecr" }, "http://option"],
    ["ecr", undefined, { AWS_ENDPOINT_URL_ECR: "http://ecr", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }, undefined],
    ["ecr", "http://option", { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "TRUE" }, "http://option"],
  ];
  for (const [service, explicit, env, expected] of table) {
    assert.equal(configuredEndpoint(service, explicit, env), expected, `${service} ${explicit} ${JSON.stringify(env)}`);
  }
  // With an endpoint configured, the variants are off: the SDK refuses FIPS with a custom endpoint.
  assert.deepEqual(endpointConfig("ecr", { region: "us-west-2", fips: true, dualStack: true }, undefined, { AWS_ENDPOINT_URL_ECR: "http://ecr" }),
    { region: "us-west-2", endpoint: "http://ecr", useFipsEndpoint: false, useDualstackEndpoint: false });
  // Without one, a variant the host does not ask for is left to the SDK's own settings.
  assert.deepEqual(endpointConfig("ecr", { region: "us-west-2", fips: true, dualStack: false }, undefined, {}), { region: "us-west-2", useFipsEndpoint: true });
});

/** The hostname the SDK sends a request to, with the config the provider builds; the request never leaves the process. */
async function resolvedHostname(sdk: EcrSdk, service: AwsService, host: string): Promise<string> {
  const registry = ecrRegistryFromHost(host);
  assert.ok(registry, host);
  const location = { region: registry.region, fips: registry.fips, dualStack: registry.dualStack };
  let hostname = "";
  const capture = {
    handle: async (request: { hostname: string }) => {
      hostname = request.hostname;
      throw Object.assign(new Error("captured"), { name: "Captured" });
    },
  };
  const config = { ...awsClientConfig(service, location, undefined, SETTINGS, {}), credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" }, requestHandler: capture };
  const send = service === "sts"
    ? new sdk.STS.STSClient(config).send(new sdk.STS.AssumeRoleCommand({ RoleArn: "arn:aws:iam::111122223333:role/x", RoleSessionName: "t" }))
    : service === "ecr-public"
      ? new sdk.ECRPublic.ECRPUBLICClient(config).send(new sdk.ECRPublic.GetAuthorizationTokenCommand({}))
      : new sdk.ECR.ECRClient(config).send(new sdk.ECR.GetAuthorizationTokenCommand({}));
  await assert.rejects(send, { name: "Captured" });
  return hostname;
}

test("each host's API call goes to its own endpoint: FIPS, dual-stack, China, GovCloud, EU sovereign, ISO, ECR Public", async (t) => {
  for (const name of Object.keys(process.env)) {
    // The SDK would take these from the test's own environment.
    if (/^AWS_(ENDPOINT_URL|USE_FIPS_ENDPOINT|USE_DUALSTACK_ENDPOINT)/.test(name)) t.skip(`${name} is set in the test environment`);
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const sdk: EcrSdk = { ECR: require("@aws-sdk/client-ecr"), ECRPublic: require("@aws-sdk/client-ecr-public"), STS: require("@aws-sdk/client-sts") };
  assert.ok(endpoints.length >= 16);
  for (const { host, api, sts } of endpoints) {
    const registry = ecrRegistryFromHost(host)!;
    assert.equal(await resolvedHostname(sdk, registry.kind === "public" ? "ecr-public" : "ecr", host), api, `API endpoint for ${host}`);
    assert.equal(await resolvedHostname(sdk, "sts", host), sts, `STS endpoint for ${host}`);
  }
});
