// One request, start to finish (DESIGN.md steps 4-6): name the image (image-name.ts, through a
// mirror rule if one matches), select the providers whose matchImages match (select.ts), ask each
// through the credential cache (cache/) under one deadline, keep only the keys each is entitled to
// give for this image (key-scope.ts), and merge their answers into one kubelet response (merge.ts).
import { describeDuration } from "./duration.js";
import { Deadline } from "./deadline.js";
import { CredmuxError } from "./errors.js";
import { normalizeImageName, type ImageName } from "./image-name.js";
import { findMirror, mirroredImageName } from "./mirror.js";
import { filterKeys } from "./key-scope.js";
import { mergeAnswers } from "./merge.js";
import { selectProvider } from "./select.js";
import type { CacheSource, CredentialCache } from "./cache/credential-cache.js";
import { cacheIdentity, makeCacheKey } from "./cache/key.js";
import { providerFingerprint } from "./cache/provider-fingerprint.js";
import type { Config, MirrorRule, ProviderConfig } from "./config.js";
import type { Logger } from "./log.js";
import type { AuthEntry, KubeletRequest, KubeletResponse } from "./protocol.js";
import { ProviderError, type CredentialRequest, type ProviderEnv, type ProviderFunction, type ProviderResult } from "./provider.js";
import type { SecretSet } from "./secrets.js";

/** What a run hands to the dispatcher: its side effects, injectable in tests. */
export interface RunContext {
  log: Logger;
  secrets: SecretSet;
  now(): number;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** The credential cache; absent when caching is off. */
  cache?: CredentialCache;
}

export interface DroppedKey {
  key: string;
  why: string;
}

/** What happened with one configured provider for one image; `check` and `explain` print these. */
export interface ProviderOutcome {
  provider: ProviderConfig;
  /** The first matchImages pattern that matched; absent when the provider was not asked. */
  matchedPattern?: string;
  /** Why a matching provider was not asked (service-account requirements). */
  skipped?: string;
  result?: ProviderResult;
  /** The normalised keys kept for this image and their credentials, in the provider's order. */
  credentials: Array<[key: string, credential: AuthEntry]>;
  dropped: DroppedKey[];
  error?: CredmuxError;
  lifetimeMs?: number;
  /** Where the answer came from. */
  source?: CacheSource;
}

export interface Resolution {
  /** The image the kubelet asked for. */
  image: ImageName;
  /** When a mirror rule matched: the rule, and the image in the mirror whose providers answered. */
  mirror?: { rule: MirrorRule; image: ImageName };
  response: KubeletResponse;
  outcomes: ProviderOutcome[];
  /** The first provider failure, in config order; the CLI turns it into exit 1 unless onFailure is empty. */
  failure?: CredmuxError;
}

export class Dispatcher {
  readonly #config: Config;
  readonly #context: RunContext;
  readonly #instances = new Map<string, ProviderFunction>();

  constructor(config: Config, context: RunContext) {
    this.#config = config;
    this.#context = context;
  }

  /** Resolves one kubelet request; never throws for a provider failure, which is reported in `failure`. */
  async resolve(request: KubeletRequest): Promise<Resolution> {
    const requested = normalizeImageName(request.image);
    const { log } = this.#context;
    const rule = findMirror(this.#config.mirrors, requested.name);
    // With a mirror, every step below works on the image as the mirror names it.
    const image = rule ? normalizeImageName(mirroredImageName(rule, requested.name)) : requested;
    const mirror = rule ? { rule, image } : undefined;
    if (mirror) log.debug("answering with the mirror's credentials", { image: requested.name, mirror: image.name });
    if (request.serviceAccountToken) this.#context.secrets.add(request.serviceAccountToken);
    const outcomes: ProviderOutcome[] = this.#config.providers.map((provider) => selectProvider(provider, image.name, request));
    const asked = outcomes.filter((outcome) => outcome.matchedPattern !== undefined && outcome.skipped === undefined);
    if (outcomes.every((outcome) => outcome.matchedPattern === undefined)) {
      log.warn("no provider matches this image, so it gets no credentials; the kubelet's matchImages and credmux's config disagree (run `credmux explain IMAGE` to compare)", {
        image: image.name,
        config: this.#config.path,
      });
    }

    const deadline = new Deadline(this.#config.defaults.timeoutMs);
    try {
      await Promise.all(asked.map((outcome) => this.#ask(outcome, image, request, deadline)));
    } finally {
      deadline.stop();
    }

    const failed = asked.find((outcome) => outcome.error);
    const base = { image: requested, outcomes, ...(mirror ? { mirror } : {}) };
    if (failed && this.#config.onFailure === "empty") {
      log.warn("a provider failed; answering with no credentials because onFailure is empty", { provider: failed.provider.name, error: failed.error });
      return { ...base, response: emptyResponse(request), failure: failed.error };
    }
    if (failed) return { ...base, response: emptyResponse(request), failure: failed.error };

    return { ...base, response: mergeAnswers(asked, { request, requested, image, rule, config: this.#config, log }) };
  }

  async #ask(outcome: ProviderOutcome, image: ImageName, request: KubeletRequest, deadline: Deadline): Promise<void> {
    const { provider } = outcome;
    const started = this.#context.now();
    try {
      const providerRequest: CredentialRequest = { image: image.name, registry: image.registry, apiVersion: request.apiVersion };
      if (provider.tokenAttributes && request.serviceAccountToken) {
        providerRequest.serviceAccountToken = request.serviceAccountToken;
        if (request.serviceAccountAnnotations) providerRequest.serviceAccountAnnotations = { ...request.serviceAccountAnnotations };
      }
      // Only a request the cache cannot answer loads the provider and starts the deadline.
      const upstream = async () => {
        deadline.start();
        const fn = await this.#instance(provider);
        const answer = await withDeadline(fn(providerRequest, deadline.signal), deadline, provider);
        checkResult(answer, provider);
        for (const entry of Object.values(answer.auth)) this.#context.secrets.addCredential(entry.username, entry.password);
        if (request.serviceAccountToken && provider.tokenAttributes?.cacheType !== "Token" &&
            Object.values(answer.auth).some((entry) => entry.password === request.serviceAccountToken)) {
          throw new ProviderError("returned the service-account token as a password, which the kubelet rejects",
            "set tokenAttributes.cacheType: Token for this provider, so the answer is cached per token");
        }
        return answer;
      };
      const { cache } = this.#context;
      let result: ProviderResult;
      if (cache && provider.cacheable) {
        const identity = cacheIdentity(provider, providerRequest);
        // Taken before the provider reads its files: one rewritten meanwhile gives the next exec another key.
        const fingerprint = providerFingerprint(provider, this.#config.dir);
        const keys = {
          registry: makeCacheKey(provider.name, image.registry, identity, fingerprint),
          image: makeCacheKey(provider.name, image.name, identity, fingerprint),
        };
        const answer = await cache.fetch(keys, upstream, (fetched) => this.#lifetime(fetched), deadline);
        result = answer.result;
        outcome.source = answer.source;
        for (const entry of Object.values(result.auth)) this.#context.secrets.addCredential(entry.username, entry.password);
      } else {
        result = await upstream();
        outcome.source = "upstream";
      }
      outcome.result = result;
      Object.assign(outcome, filterKeys(result, provider, image, outcome.matchedPattern!, this.#context.log));
      outcome.lifetimeMs = this.#lifetime(result);
      this.#context.log.debug("provider answered", {
        provider: provider.name, keys: outcome.credentials.map(([key]) => key), source: outcome.source, ms: this.#context.now() - started,
      });
    } catch (error) {
      outcome.error = providerFailure(provider, error);
      this.#context.log.debug("provider failed", { provider: provider.name, error: outcome.error, ms: this.#context.now() - started });
    }
  }

  /** How long the kubelet may reuse this provider's answer: its real lifetime less the margin. */
  #lifetime(result: ProviderResult): number {
    const { cacheDurationMs, expiryMarginMs } = this.#config.defaults;
    if (result.cacheDurationMs !== undefined) return Math.max(0, result.cacheDurationMs);
    if (!result.expiresAt) return cacheDurationMs;
    const remaining = result.expiresAt.getTime() - this.#context.now();
    if (remaining <= 0) return 0;
    if (remaining > expiryMarginMs) return remaining - expiryMarginMs;
    // A credential that lives less than the margin is still good for a moment: half of what is left,
    // never longer than it lives and never 0 by accident.
    return Math.max(Math.min(1000, remaining), Math.floor(remaining / 2));
  }

  async #instance(provider: ProviderConfig): Promise<ProviderFunction> {
    let fn = this.#instances.get(provider.name);
    if (!fn) {
      const env: ProviderEnv = {
        name: provider.name,
        matchImages: provider.matchImages,
        log: this.#context.log,
        secrets: this.#context.secrets,
        now: this.#context.now,
        env: this.#context.env,
        cwd: this.#context.cwd,
        configDir: this.#config.dir,
      };
      fn = (await provider.definition()).create(provider.options, env);
      this.#instances.set(provider.name, fn);
    }
    return fn;
  }
}

/** How long a provider stopped by the deadline gets to report what it was waiting for. */
const DEADLINE_GRACE_MS = 100;

/**
 * The provider's answer, or at the deadline an error. A provider that honours the signal rejects
 * right after it with a reason naming the call and endpoint that hung, which says more than the
 * dispatcher can: that reason is used if it comes within a moment.
 */
function withDeadline<T>(work: Promise<T>, deadline: Deadline, provider: ProviderConfig): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    const cancel = deadline.onPass(() => {
      grace = setTimeout(() => reject(new ProviderError(`no answer within ${describeDuration(deadline.timeoutMs)}`,
        "the deadline is defaults.timeout; check that the provider's upstream is reachable")), DEADLINE_GRACE_MS);
    });
    const settle = () => {
      cancel();
      clearTimeout(grace);
    };
    work.then(
      (value) => { settle(); resolve(value); },
      (error) => { settle(); reject(error); },
    );
  });
}

function checkResult(result: ProviderResult, provider: ProviderConfig): void {
  const bad = (what: string) => new ProviderError(`answered with ${what}`, `the ${provider.type} provider broke the provider contract`);
  if (typeof result !== "object" || result === null || typeof result.auth !== "object" || result.auth === null) throw bad("no auth map");
  for (const [key, entry] of Object.entries(result.auth)) {
    if (typeof entry !== "object" || entry === null || typeof entry.username !== "string" || typeof entry.password !== "string") {
      throw bad(`an entry for "${key}" without a string username and password`);
    }
  }
  if (result.expiresAt !== undefined && !(result.expiresAt instanceof Date && Number.isFinite(result.expiresAt.getTime()))) throw bad("an invalid expiresAt");
  if (result.cacheKeyType !== undefined && !["Image", "Registry", "Global"].includes(result.cacheKeyType)) throw bad(`cacheKeyType "${String(result.cacheKeyType)}"`);
}

function providerFailure(provider: ProviderConfig, error: unknown): CredmuxError {
  // Not folded to one line here: the line is folded when printed, after masking, so that a secret
  // holding a newline is still found.
  const reason = error instanceof CredmuxError ? error.message
    : error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error);
  const hint = error instanceof CredmuxError ? error.hint : undefined;
  return new CredmuxError("provider", `provider ${provider.name}: ${reason}`, hint, { cause: error });
}

function emptyResponse(request: KubeletRequest): KubeletResponse {
  return { apiVersion: request.apiVersion, cacheKeyType: "Registry", cacheDurationMs: 0, auth: {} };
}
