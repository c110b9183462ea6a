// The kubelet's exec-plugin wire API (credentialprovider.kubelet.k8s.io), protocol sections 1.2-1.8.
// Requests are read leniently (unknown fields ignored, because the kubelet adds fields over time);
// responses are written strictly (exactly the fields the kubelet's strict decoder knows).
import { formatGoDuration } from "./duration.js";
import { CredmuxError, jsonSyntaxReason } from "./errors.js";

export const API_GROUP = "credentialprovider.kubelet.k8s.io";
export const API_VERSIONS = [`${API_GROUP}/v1`, `${API_GROUP}/v1beta1`, `${API_GROUP}/v1alpha1`] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];
export type CacheKeyType = "Image" | "Registry" | "Global";

export interface KubeletRequest {
  apiVersion: ApiVersion;
  image: string;
  /** v1 only, and only when the kubelet config gives credmux tokenAttributes. */
  serviceAccountToken?: string;
  serviceAccountAnnotations?: Record<string, string>;
}

export interface AuthEntry {
  username: string;
  password: string;
}

export interface KubeletResponse {
  apiVersion: ApiVersion;
  cacheKeyType: CacheKeyType;
  /** Milliseconds; written as a Go duration string. */
  cacheDurationMs: number;
  auth: Record<string, AuthEntry>;
}

function requestError(reason: string): CredmuxError {
  return new CredmuxError("request", `request on stdin: ${reason}`, "credmux expects one CredentialProviderRequest from the kubelet");
}

function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `"${value.length > 60 ? value.slice(0, 60) + "..." : value}"` : `a ${typeof value}`;
}

/** Decodes the kubelet's request; throws a CredmuxError naming what is wrong. */
export function decodeRequest(text: string): KubeletRequest {
  if (text.trim() === "") throw requestError("empty; no CredentialProviderRequest was given");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw requestError(`malformed JSON (${jsonSyntaxReason(error)})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw requestError(`expected a JSON object, found ${describeJsonType(parsed)}`);
  }
  const body = parsed as Record<string, unknown>;
  if (body.kind !== "CredentialProviderRequest") {
    throw requestError(`kind is ${body.kind === undefined ? "missing" : describeJsonType(body.kind)}, expected "CredentialProviderRequest"`);
  }
  const apiVersion = body.apiVersion;
  if (typeof apiVersion !== "string" || !(API_VERSIONS as readonly string[]).includes(apiVersion)) {
    throw requestError(
      `apiVersion is ${apiVersion === undefined ? "missing" : describeJsonType(apiVersion)}, expected one of ${API_VERSIONS.join(", ")}`,
    );
  }
  if (typeof body.image !== "string" || body.image === "") {
    throw requestError(`image is ${body.image === undefined ? "missing" : body.image === "" ? "empty" : describeJsonType(body.image)}, expected the image repository to find credentials for`);
  }
  const request: KubeletRequest = { apiVersion: apiVersion as ApiVersion, image: body.image };
  // Service-account fields exist only in v1; the older versions' conversions drop them on purpose.
  if (apiVersion === `${API_GROUP}/v1`) {
    const token = body.serviceAccountToken;
    if (token !== undefined && token !== null) {
      if (typeof token !== "string") throw requestError(`serviceAccountToken is ${describeJsonType(token)}, expected a string`);
      if (token !== "") request.serviceAccountToken = token;
    }
    const annotations = body.serviceAccountAnnotations;
    if (annotations !== undefined && annotations !== null) {
      if (typeof annotations !== "object" || Array.isArray(annotations)) {
        throw requestError(`serviceAccountAnnotations is ${describeJsonType(annotations)}, expected an object of strings`);
      }
      const copy: Record<string, string> = Object.create(null);
      for (const [key, value] of Object.entries(annotations)) {
        if (typeof value !== "string") throw requestError(`serviceAccountAnnotations["${key}"] is ${describeJsonType(value)}, expected a string`);
        copy[key] = value;
      }
      if (Object.keys(copy).length > 0) request.serviceAccountAnnotations = copy;
    }
  }
  return request;
}

/** Encodes a response with exactly the fields of protocol 1.3/1.4, one line, newline-terminated. */
export function encodeResponse(response: KubeletResponse): string {
  const auth: Record<string, AuthEntry> = {};
  for (const [key, entry] of Object.entries(response.auth)) auth[key] = { username: entry.username, password: entry.password };
  return `${JSON.stringify({
    kind: "CredentialProviderResponse",
    apiVersion: response.apiVersion,
    cacheKeyType: response.cacheKeyType,
    cacheDuration: formatGoDuration(response.cacheDurationMs),
    auth,
  })}\n`;
}
