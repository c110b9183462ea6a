// One kubelet exec of the built bundle for a cloud provider's tests (acr, gcp, alibaba): a config
// with one provider entry written into a temporary directory, the kubelet's request on stdin, and
// the response parsed when the exec succeeds.
import assert from "node:assert/strict";
import { runBundle, type BundleRun } from "./run-bundle.js";
import { tempDir, writeConfig } from "./temp.js";

export const KUBELET_V1 = "credentialprovider.kubelet.k8s.io/v1";

/**
 * The deadline (defaults.timeout) of an exec that is meant to succeed or fail on an answer:
 * generous, so that a loaded machine never turns an answer into a deadline error. Tests of a
 * hanging endpoint set a short one of their own.
 */
export const ANSWER_DEADLINE = "10s";

/** A CredentialProviderRequest for image as the kubelet writes it on stdin, with extra fields. */
export function kubeletRequest(image: string, extra: object = {}): string {
  return `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: KUBELET_V1, image, ...extra })}\n`;
}

/** Go's duration string (as in cacheDuration) in seconds: "54m59s" is 3299. */
export function durationSeconds(duration: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  assert.ok(match, `not a duration: ${duration}`);
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

export interface ProviderExecOptions {
  /** More of the config (defaults, cache, ...), over the generous defaults.timeout. */
  config?: object;
  /** More fields of the request (serviceAccountToken, ...). */
  request?: object;
  env?: Record<string, string>;
  /** Where the config goes (files it names live there too); a fresh temporary directory if not given. */
  dir?: string;
}

/** The exec's outcome, with the kubelet response parsed when it exited 0. */
export type ProviderExec = BundleRun & { response: any };

/** Runs the bundle once for image with a config holding the one provider entry. */
export async function execProvider(entry: object, image: string, options: ProviderExecOptions = {}): Promise<ProviderExec> {
  const config = writeConfig(options.dir ?? tempDir(), { defaults: { timeout: ANSWER_DEADLINE }, providers: [entry], ...options.config });
  const run = await runBundle(["--config", config], { stdin: kubeletRequest(image, options.request), env: options.env ?? {} });
  return { ...run, response: run.status === 0 ? JSON.parse(run.stdout) : undefined };
}
