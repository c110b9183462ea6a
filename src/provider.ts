// The provider contract (DESIGN.md, "Provider contract"). A provider module default-exports a
// definition; the core finds it through providers/registry.ts or, for `type: module`, by path, and
// never imports a provider by name.
import type { Logger } from "./log.js";
import type { ApiVersion, AuthEntry, CacheKeyType } from "./protocol.js";
import type { SecretSet } from "./secrets.js";
import { CredmuxError } from "./errors.js";

/** What a provider is asked: one image, already named the kubelet way. */
export interface CredentialRequest {
  /** The normalised repository, e.g. `docker.io/library/nginx` (protocol 2.9). */
  image: string;
  /** host or host:port, the part before the first `/`. */
  registry: string;
  apiVersion: ApiVersion;
  /** Present only for providers configured with tokenAttributes (service-account mode). */
  serviceAccountToken?: string;
  serviceAccountAnnotations?: Record<string, string>;
}

export interface ProviderResult {
  /** Auth-map keys (registry globs, as in docker config files) to credentials. */
  auth: Record<string, AuthEntry>;
  /** When the credentials stop working, if known. */
  expiresAt?: Date;
  /** How long the answer may be reused, when the upstream says so (a chained kubelet plugin). */
  cacheDurationMs?: number;
  /** Image narrows the kubelet's reuse of the answer to this one repository; default Registry. */
  cacheKeyType?: CacheKeyType;
}

export type ProviderFunction = (request: CredentialRequest, signal: AbortSignal) => Promise<ProviderResult>;

/** Side effects reach providers through here, so tests can hand in their own. */
export interface ProviderEnv {
  /** The provider's configured name, for messages. */
  name: string;
  /** The provider's matchImages: keys it answers must lie within them (the core drops broader ones). */
  matchImages: readonly string[];
  log: Logger;
  secrets: SecretSet;
  /** Milliseconds since the epoch. */
  now(): number;
  /** The process environment as the kubelet passed it. */
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** The directory of the credmux config file; relative paths in options are resolved against it. */
  configDir: string;
}

/** Anything with zod's safeParse: a zod/mini schema, or any validator external modules bring. */
export interface OptionsSchema<T> {
  safeParse(value: unknown, params?: { reportInput?: boolean }): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<SchemaIssue> } };
}

export interface SchemaIssue {
  code?: string;
  path: ReadonlyArray<PropertyKey>;
  message: string;
  expected?: string;
  keys?: ReadonlyArray<string>;
  values?: ReadonlyArray<unknown>;
  input?: unknown;
}

export interface ProviderDefinition<Options = Record<string, unknown>> {
  /** The name used in config files; also used in every error the provider throws. */
  type: string;
  /**
   * Validates the provider's own fields of its config entry (everything but the common ones): a
   * function returning the schema, which the core calls once, when it first checks options
   * (src/provider-options.ts), so that loading a provider builds no schema. An operator's module may
   * give the schema itself instead, as modules written before the function form do.
   */
  options?: (() => OptionsSchema<Options>) | OptionsSchema<Options>;
  /**
   * What each option means, for docs/config-reference.md (`npm run docs`): keys are field paths as
   * the reference walks the schema (`a.b`, `list[].field`, `record.*.field`). Every built-in
   * provider describes every option; a test holds the docs equal.
   */
  optionDescriptions?: Readonly<Record<string, string>>;
  /** The patterns used when a config entry gives no matchImages. */
  defaultMatchImages?: readonly string[];
  /** false for providers whose answer must be read afresh every exec (local files); default true. */
  cacheable?: boolean;
  /** Called once per process for each configured provider. */
  create(options: Options, env: ProviderEnv): ProviderFunction;
}

/** A definition of any options type: the registry and the loader hold these; options are checked at run time. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProviderDefinition = ProviderDefinition<any>;

/** What a schema's safeParse returns for valid input: z.output for a zod schema. */
export type ParsedBy<Schema> = Schema extends { safeParse(...args: never[]): infer Result }
  ? Extract<Result, { success: true }> extends { data: infer Data } ? Data : never
  : never;

/** A built-in provider's definition: its options always a function building the schema, create typed by that schema. */
export type DefinedProvider<Schema extends OptionsSchema<unknown>> = Omit<ProviderDefinition<ParsedBy<Schema>>, "options"> & { options: () => Schema };

/**
 * Identity, for type inference in provider modules: `options: () => z.strictObject({...})` types
 * create's options, with no separate Options type.
 */
export function defineProvider<Schema extends OptionsSchema<unknown>>(definition: DefinedProvider<Schema>): DefinedProvider<Schema> {
  return definition;
}

/** A provider failure: the reason, and what the operator should check. The core puts the provider's name and type in front. */
export class ProviderError extends CredmuxError {
  /** The type of the provider whose factory made it; absent for errors of shared helpers (http, child processes) passed on as they are. */
  readonly providerType: string | undefined;

  constructor(reason: string, hint?: string, options?: { cause?: unknown; providerType?: string }) {
    super("provider", reason, hint, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProviderError";
    this.providerType = options?.providerType;
  }
}

/** Makes one provider type's errors: `fail(reason, hint?)`, and `fail.withHint(error, hint)` for a step's failures. */
export interface ProviderErrorFactory {
  (reason: string, hint?: string, options?: { cause?: unknown }): ProviderError;
  /**
   * Anything a step threw, as this provider's error: the step's helpers (http, files) know what
   * failed, the provider knows what the operator should check, so one of their errors without a
   * hint gets `hint`. The provider's own errors pass as they are, with or without a hint.
   */
  withHint(error: unknown, hint: string): ProviderError;
}

/**
 * The one way a provider builds its errors (`const fail = providerError(TYPE)`): the reason says
 * what failed, without the provider's name or type, which the core puts in front of it once
 * (`provider azure (acr): REASON (HINT)`, src/dispatch.ts).
 */
export function providerError(type: string): ProviderErrorFactory {
  const fail = (reason: string, hint?: string, options?: { cause?: unknown }) => new ProviderError(reason, hint, { ...options, providerType: type });
  return Object.assign(fail, {
    withHint(error: unknown, hint: string): ProviderError {
      if (error instanceof ProviderError && (error.providerType === type || error.hint !== undefined)) return error;
      return fail(error instanceof Error ? error.message : String(error), hint, { cause: error });
    },
  });
}
