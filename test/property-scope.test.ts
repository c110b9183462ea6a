// No credential ever leaves its registry. Over generated configs (providers with generated
// matchImages, answering generated auth maps) and generated images, every key of every answer is
// for the image's registry, was given by a provider that was asked, and serves no image outside
// that provider's matchImages (keyWithinPatterns, and by brute force over sample images); an answer
// marked Registry gives every repository of the registry what its own answer would. In process
// through loadConfig and the Dispatcher for volume, then a smaller number through the built bundle.
//
// A provider type joins these properties with one entry in ANSWERING: how to make it answer a
// given auth map (write a file, script a module, point it at a loopback server).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as fc from "fast-check";
import { CredentialCache } from "../src/cache/credential-cache.js";
import { loadConfig } from "../src/config.js";
import { Dispatcher } from "../src/dispatch.js";
import { parseGoURL } from "../src/go-url.js";
import { keyWithinPatterns, lookupCredentials, matchImage, normalizeAuthKey, registryOf, urlsMatchStr } from "../src/match.js";
import type { AuthEntry, KubeletResponse } from "../src/protocol.js";
import { SecretSet } from "../src/secrets.js";
import {
  anyPattern, credential, imageOf, imageParts, isKubeletName, kubeletImage, mirrorKeyPath, mirrorRule, mirrorTail, patternMatching,
  providerAuthKey, rootedKey, spelledKey, storedKey, unsettledKey, type GeneratedMirrorRule,
} from "./helpers/arbitraries.js";
import { CaptureLog } from "./helpers/capture-log.js";
import { FIXTURES } from "./helpers/paths.js";
import { checkProperty } from "./helpers/property.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir } from "./helpers/temp.js";

const SCRIPTED = path.join(FIXTURES, "providers", "scripted-provider.js");
const V1 = "credentialprovider.kubelet.k8s.io/v1" as const;

/** How to make a provider type answer exactly `auth`: its config entry, minus name and matchImages. */
interface AnsweringProvider {
  entry(auth: Record<string, AuthEntry>, scratch: string, id: string): Record<string, unknown>;
}

const ANSWERING: Record<string, AnsweringProvider> = {
  // An operator's own module (type: module), scripted by its config entry.
  module: { entry: (auth) => ({ type: "module", module: SCRIPTED, answer: auth }) },
  // Static docker config files: the auth map written as a config.json.
  dockercfg: {
    entry(auth, scratch, id) {
      const file = path.join(scratch, `${id}.docker-config.json`);
      fs.writeFileSync(file, JSON.stringify({ auths: auth }));
      return { type: "dockercfg", files: [file] };
    },
  },
};
const ANSWERING_TYPES = Object.keys(ANSWERING);

interface GeneratedProvider {
  via: string;
  matchImages: string[];
  answer: Record<string, AuthEntry>;
  imageScoped: boolean;
}

interface GeneratedCase {
  providers: GeneratedProvider[];
  images: string[];
  mirrors?: GeneratedMirrorRule[];
}

/** A pattern the config schema accepts (the kubelet can parse it). */
const validPattern = anyPattern.filter((pattern) => parseGoURL(`https://${pattern}`) !== undefined);

/** Keys for a provider: its own patterns spelled any way, broader and foreign ones, and odd ones. */
function authKeysFor(patterns: string[], keyKind: fc.Arbitrary<string>, spell: (stored: string) => fc.Arbitrary<string>): fc.Arbitrary<string[]> {
  const own = fc.constantFrom(...patterns).chain(spell);
  const broader = fc.constantFrom(...patterns).map((pattern) => {
    const slash = pattern.indexOf("/");
    // The same host without the path, or with one label made a "*": both can reach beyond the pattern.
    return slash > 0 ? pattern.slice(0, slash) : pattern.replace(/^[^.:/]+/, "*");
  });
  return fc.uniqueArray(fc.oneof({ weight: 3, arbitrary: own }, { weight: 2, arbitrary: broader }, { weight: 2, arbitrary: keyKind }), { maxLength: 6 });
}

const generatedProvider = (keyKind: fc.Arbitrary<string>, spell: (stored: string) => fc.Arbitrary<string>): fc.Arbitrary<GeneratedProvider> =>
  fc.tuple(fc.constantFrom(...ANSWERING_TYPES), fc.uniqueArray(validPattern, { minLength: 1, maxLength: 3 }), fc.nat({ max: 9 }))
    .chain(([via, matchImages, scoped]) => authKeysFor(matchImages, keyKind, spell).chain((keys) =>
      fc.tuple(...keys.map(() => credential)).map((credentials) => ({
        via,
        matchImages,
        answer: Object.fromEntries(keys.map((key, i) => [key, credentials[i]!])),
        imageScoped: scoped === 0,
      }))));

/** Images the providers' patterns match (a "*" filled in, a path added), and others. */
function imagesNear(patterns: string[]): fc.Arbitrary<string[]> {
  const fromPattern = fc.tuple(fc.constantFrom(...patterns), fc.constantFrom("", "a", "reg", "x9"), fc.constantFrom("/app", "x/app", "/team/app", ""))
    .map(([pattern, fill, tail]) => `${pattern.replaceAll("*", fill)}${tail}`);
  return fc.array(fc.oneof(fromPattern, kubeletImage()), { minLength: 1, maxLength: 4 })
    .map((images) => images.filter(isKubeletName))
    .filter((images) => images.length > 0);
}

const generatedCase = (keyKind: fc.Arbitrary<string> = providerAuthKey, spell: (stored: string) => fc.Arbitrary<string> = spelledKey): fc.Arbitrary<GeneratedCase> =>
  fc.array(generatedProvider(keyKind, spell), { minLength: 1, maxLength: 3 })
    .chain((providers) => imagesNear(providers.flatMap((p) => [...p.matchImages, ...Object.keys(p.answer)]))
      .map((images) => ({ providers, images })));

/** The credmux config document for a case; dockercfg files are written into scratch. */
function configDocument(generated: GeneratedCase, scratch: string, extra: object = {}): object {
  return {
    apiVersion: "credmux/v1alpha1",
    kind: "Config",
    cache: { dir: "" },
    ...extra,
    ...(generated.mirrors ? { mirrors: generated.mirrors.map(({ from, to }) => ({ from, to })) } : {}),
    providers: generated.providers.map((provider, i) => ({
      name: `p${i}`,
      matchImages: provider.matchImages,
      ...ANSWERING[provider.via]!.entry(provider.answer, scratch, `p${i}`),
      ...(provider.imageScoped && provider.via === "module" ? { cacheKeyType: "Image" } : {}),
    })),
  };
}

/** Images to try a key on: what its globs could stand for, with paths, plus every generated image. */
function sampleImages(keys: string[], images: string[]): string[] {
  const samples = new Set(images);
  for (const key of keys) {
    for (const fill of ["", "a", "reg", "x9"]) {
      const filled = key.replaceAll("*", fill);
      for (const tail of ["/app", "x/app", "/team/app", "/v2/app"]) samples.add(`${filled}${tail}`);
      samples.add(filled);
    }
  }
  for (const hub of ["docker.io/library/nginx", "docker.io/team/app", "localhost/app", "localhost:5000/app", "Upper/app"]) samples.add(hub);
  return [...samples].filter(isKubeletName);
}

/** The key dispatch writes for a provider's key: the kubelet's stored form, with index.docker.io said as docker.io. */
function answeredAs(providerKey: string): string | undefined {
  const stored = normalizeAuthKey(providerKey);
  return stored?.replace(/^index\.docker\.io(?=\/|$)/, "docker.io");
}

/** Sample images for a case: near every key any provider gives and every pattern. */
function caseSamples(generated: GeneratedCase): string[] {
  const keys = generated.providers.flatMap((p) => [...p.matchImages, ...Object.keys(p.answer).map((key) => answeredAs(key) ?? key)]);
  return sampleImages(keys, generated.images);
}

/** The properties of one answer for one image, from the config alone (so the bundle's answers are checked alike). */
function checkAnswer(image: string, auth: Record<string, AuthEntry>, generated: GeneratedCase, samples: string[] = caseSamples(generated)): void {
  for (const [key, entry] of Object.entries(auth)) {
    const stored = normalizeAuthKey(key);
    assert.ok(stored !== undefined, `the answer for ${image} holds "${key}", which the kubelet cannot parse`);
    assert.ok(urlsMatchStr(registryOf(stored), registryOf(image)), `the answer for ${image} holds "${key}", a key for another registry`);
    // The key the provider gave, or narrower (dispatch narrows a registry-wide key to the path of a
    // path-scoped pattern): every image it serves, the given key serves too.
    const givers = generated.providers.filter((provider) =>
      provider.matchImages.some((pattern) => matchImage(pattern, image)) &&
      Object.entries(provider.answer).some(([given, credential]) => {
        const givenAs = answeredAs(given);
        return credential.password === entry.password && credential.username === entry.username &&
          givenAs !== undefined && (givenAs === key || keyWithinPatterns(key, [givenAs]));
      }));
    assert.ok(givers.length > 0, `"${key}" in the answer for ${image} was not given under that key (or a broader one) by any provider asked`);
    const giver = givers[0]!;
    assert.ok(keyWithinPatterns(key, giver.matchImages), `"${key}" is broader than ${JSON.stringify(giver.matchImages)}`);
    for (const sample of samples) {
      if (lookupCredentials([[key, entry]], sample).length === 0) continue;
      assert.ok(giver.matchImages.some((pattern) => matchImage(pattern, sample)),
        `"${key}" (for ${image}) would reach ${sample}, which ${JSON.stringify(giver.matchImages)} does not match`);
    }
  }
}

/** A scratch directory in memory when the machine has /dev/shm: thousands of small config files are written. */
function scratchDir(): string {
  if (!fs.existsSync("/dev/shm")) return tempDir();
  const dir = fs.mkdtempSync(path.join("/dev/shm", "credmux-scope-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface InProcessRun {
  resolve(image: string): Promise<KubeletResponse>;
}

/** Loads the generated config through loadConfig and answers images with a Dispatcher, optionally through an in-memory cache. */
async function inProcess(generated: GeneratedCase, scratch: string, cached: boolean): Promise<InProcessRun> {
  const file = path.join(scratch, "config.json");
  fs.writeFileSync(file, JSON.stringify(configDocument(generated, scratch)));
  const config = await loadConfig(file);
  const log = new CaptureLog();
  const now = () => Date.parse("2026-11-23T10:00:00Z");
  const cache = cached ? new CredentialCache({ dir: "", maxEntries: 100, memory: true, timeoutMs: config.defaults.timeoutMs }, log, now) : undefined;
  const dispatcher = new Dispatcher(config, { log, secrets: new SecretSet(), now, env: {}, cwd: scratch, ...(cache ? { cache } : {}) });
  return {
    async resolve(image) {
      const resolution = await dispatcher.resolve({ apiVersion: V1, image });
      assert.equal(resolution.failure, undefined, `no provider fails here: ${resolution.failure?.message}`);
      return resolution.response;
    },
  };
}

test("in process: every key of every answer is for the image's registry, from a provider asked, and no broader than its matchImages", async (t) => {
  const scratch = scratchDir();
  await checkProperty(t, fc.asyncProperty(generatedCase(), fc.boolean(), async (generated, cached) => {
    const run = await inProcess(generated, scratch, cached);
    const samples = caseSamples(generated);
    for (const image of generated.images) checkAnswer(image, (await run.resolve(image)).auth, generated, samples);
  }), { numRuns: 3000 });
});

test("in process: an answer marked Registry gives every repository of the registry the credentials its own answer would", async (t) => {
  const scratch = scratchDir();
  // Sibling repositories: the paths of every pattern and key on the image's registry, and others.
  const withSiblings = generatedCase().chain((generated) => {
    const paths = generated.providers.flatMap((p) => [...p.matchImages, ...Object.keys(p.answer)])
      .map((text) => parseGoURL(`https://${text}`)?.path ?? "").filter((p) => p.length > 1).map((p) => p.slice(1).replace(/\/$/, ""));
    const sibling = fc.oneof(fc.constantFrom("app", "team/app", "team-a/app", ...paths).chain((p) => fc.constantFrom(p, `${p}/app`, `${p}x/app`)), imageParts().map((parts) => parts.path));
    return fc.tuple(fc.constant(generated), fc.array(sibling, { minLength: 1, maxLength: 4 }));
  });
  await checkProperty(t, fc.asyncProperty(withSiblings, async ([generated, siblingPaths]) => {
    const run = await inProcess(generated, scratch, false);
    for (const image of generated.images) {
      const answer = await run.resolve(image);
      if (answer.cacheKeyType !== "Registry" || Object.keys(answer.auth).length === 0) continue;
      for (const sibling of siblingPaths.map((p) => `${registryOf(image)}/${p}`).filter(isKubeletName)) {
        // The kubelet reuses `answer` for `sibling` without asking credmux again.
        const reused = lookupCredentials(Object.entries(answer.auth), sibling);
        const own = lookupCredentials(Object.entries((await run.resolve(sibling)).auth), sibling);
        assert.deepEqual(reused, own, `the Registry answer for ${image} gives ${sibling} other credentials than its own answer`);
      }
    }
  }), { numRuns: 1500 });
});

// The kubelet normalises every key it reads, and its normalisation is not idempotent
// (property-match.test.ts lists how): "reg.test/v2/v2/team" read once is "reg.test/v2/team", read
// twice "reg.test/team". An answer must hold keys that are fixed points, so that what credmux
// checked and shows is what the kubelet stores (found by this property; fixed in dispatch).
test("in process: every key in an answer is stored by the kubelet under itself, however the provider spelled it", async (t) => {
  const scratch = scratchDir();
  const spell = (stored: string) => fc.oneof(spelledKey(stored), unsettledKey(stored));
  await checkProperty(t, fc.asyncProperty(generatedCase(providerAuthKey, spell), async (generated) => {
    const run = await inProcess(generated, scratch, false);
    for (const image of generated.images) {
      for (const key of Object.keys((await run.resolve(image)).auth)) {
        assert.equal(normalizeAuthKey(key), key, `the answer for ${image} holds "${key}", which the kubelet stores as "${normalizeAuthKey(key)}"`);
      }
    }
  }), { numRuns: 1000 });
});

// FC_SEED=272445767 found this: the docker config key "reg.test/v2/v2/team", which the kubelet
// stores as "reg.test/v2/team", was answered as "reg.test/team", a different set of images.
test("example (FC_SEED=272445767): a key with a doubled /v2/ root is not answered as a broader key", async () => {
  const generated: GeneratedCase = {
    providers: [{
      via: "dockercfg",
      matchImages: ["*.*/"],
      answer: { "reg.test/v2/v2/team": { username: "user", password: "pw-v2-v2-team" }, "reg.test/v2/other": { username: "other", password: "pw-v2-other" } },
      imageScoped: false,
    }],
    images: ["reg.test/v2/v2/team/app", "reg.test/team/app", "reg.test/v2/team/app"],
  };
  const run = await inProcess(generated, scratchDir(), false);
  for (const image of generated.images) {
    const answer = await run.resolve(image);
    checkAnswer(image, answer.auth, generated);
    checkGranted(image, answer, generated, caseSamples(generated));
  }
});

/**
 * Where a pull of image really goes: under the first rule whose from matches it at a path-component
 * boundary (from "docker.io/team" is the team's repositories, not docker.io/teamx), the mirror's
 * name for it (to, then the rest of its path), else the image itself.
 */
function pulledAs(image: string, mirrors: readonly GeneratedMirrorRule[] = []): { rule: number; target: string } {
  const restAfter = ({ from, fromHost }: GeneratedMirrorRule) => image.slice(registryOf(image).length).slice(from.slice(fromHost.length).replace(/\/+$/, "").length);
  const rule = mirrors.findIndex((candidate) => matchImage(candidate.from, image) && /^(?:$|\/)/.test(restAfter(candidate)));
  if (rule < 0) return { rule, target: image };
  return { rule, target: `${mirrors[rule]!.to.replace(/\/+$/, "")}${restAfter(mirrors[rule]!)}` };
}

/**
 * The invariant behind every answer: no answered key, as the kubelet normalises it (once) and
 * matches it, serves an image with a credential that the operator did not grant for the image its
 * pull really reaches (the mirror's, for a mirrored image): a provider that matches that image
 * holds the credential under a key that, as the kubelet would store it, matches that image.
 * The one exception: an Image-keyed answer, which the kubelet uses for its own image only, may hold
 * a key that also matches images the answer's mirror rule does not take (the repository `from`
 * names, whose every key also matches its string-prefix siblings).
 */
function checkGranted(image: string, answer: Pick<KubeletResponse, "auth" | "cacheKeyType">, generated: GeneratedCase, samples: string[]): void {
  const { rule } = pulledAs(image, generated.mirrors);
  for (const [key, entry] of Object.entries(answer.auth)) {
    for (const sample of samples) {
      if (lookupCredentials([[key, entry]], sample).length === 0) continue;
      const reached = pulledAs(sample, generated.mirrors);
      if (reached.rule !== rule && sample !== image) {
        assert.ok(answer.cacheKeyType === "Image" || registryOf(sample) !== registryOf(image),
          `"${key}" in the ${answer.cacheKeyType} answer for ${image} serves ${sample}, which ${reached.rule < 0 ? "no mirror rule takes" : `mirror rule ${reached.rule} takes`}`);
        continue;
      }
      const granted = generated.providers.some((provider) => provider.matchImages.some((pattern) => matchImage(pattern, reached.target)) &&
        Object.entries(provider.answer).some(([given, credential]) => credential.password === entry.password &&
          lookupCredentials([[given, credential]], reached.target).length > 0));
      assert.ok(granted, `"${key}" in the answer for ${image} serves ${sample} (pulled as ${reached.target}), for which no provider's key grants that credential`);
    }
  }
}

test("in process: keys spelled with repeated /v1/ and /v2/ roots serve only what the kubelet's single normalisation of the operator's key serves", async (t) => {
  const scratch = scratchDir();
  const spell = (stored: string) => fc.oneof(spelledKey(stored), rootedKey(stored));
  const keyKind = fc.oneof(providerAuthKey, storedKey.chain(rootedKey));
  await checkProperty(t, fc.asyncProperty(generatedCase(keyKind, spell), async (generated) => {
    const run = await inProcess(generated, scratch, false);
    const samples = caseSamples(generated);
    for (const image of generated.images) {
      const answer = await run.resolve(image);
      const { auth } = answer;
      checkAnswer(image, auth, generated, samples);
      checkGranted(image, answer, generated, samples);
      for (const key of Object.keys(auth)) assert.equal(normalizeAuthKey(key), key, `the answer for ${image} holds "${key}", which the kubelet stores as "${normalizeAuthKey(key)}"`);
    }
  }), { numRuns: 1500 });
});

/** A provider serving a mirror's registry, its keys around the mirror's path, spelled any way (roots repeated too). */
function mirrorProvider(rule: GeneratedMirrorRule): fc.Arbitrary<GeneratedProvider> {
  const toPath = rule.to.slice(rule.toHost.length).replace(/\/+$/, "");
  const spell = (stored: string) => fc.oneof(fc.constant(stored), spelledKey(stored), rootedKey(stored));
  const key = mirrorKeyPath(toPath).chain((keyPath) => spell(`${rule.toHost}${keyPath}`));
  return fc.record({
    via: fc.constantFrom(...ANSWERING_TYPES),
    matchImages: fc.constantFrom([rule.toHost], [`${rule.toHost}${toPath}`], [`${rule.toHost}/mirror`, rule.toHost]).map((patterns) => [...new Set(patterns)]),
    keys: fc.uniqueArray(fc.oneof({ weight: 5, arbitrary: key }, { weight: 1, arbitrary: fc.constantFrom("*.test", "*.*", "*.test:5000") }), { minLength: 1, maxLength: 5 }),
    scoped: fc.nat({ max: 9 }),
  }).chain(({ via, matchImages, keys, scoped }) => fc.tuple(...keys.map(() => credential)).map((credentials) => ({
    via, matchImages, answer: Object.fromEntries(keys.map((k, i) => [k, credentials[i]!])), imageScoped: scoped === 0,
  })));
}

/** Mirror rules (paths on both sides), the providers of their targets, sometimes one for a from registry itself, and images under the rules. */
const mirrorCase: fc.Arbitrary<GeneratedCase> = fc.uniqueArray(mirrorRule, { minLength: 1, maxLength: 2, selector: (rule) => rule.from }).chain((mirrors) => {
  const direct = fc.constantFrom(...mirrors).chain((rule) => fc.record({
    via: fc.constant("dockercfg"),
    matchImages: fc.constant<string[]>([rule.fromHost]),
    answer: fc.tuple(credential, credential).map(([a, b]) => ({ [rule.fromHost]: a, [`${rule.fromHost}/team`]: b })),
    imageScoped: fc.constant(false),
  }));
  const image = fc.tuple(fc.constantFrom(...mirrors), mirrorTail, fc.boolean())
    .map(([rule, tail, underPath]) => `${underPath ? rule.from.replace(/\/+$/, "") : rule.fromHost}/${tail}`);
  return fc.record({
    mirrors: fc.constant(mirrors),
    providers: fc.tuple(fc.tuple(...mirrors.map(mirrorProvider)), fc.option(direct)).map(([own, other]) => (other ? [...own, other] : own)),
    images: fc.array(image, { minLength: 1, maxLength: 3 }).map((images) => images.filter(isKubeletName)).filter((images) => images.length > 0),
  });
});

test("in process: behind mirrors with paths on both sides, no answered key serves an image its operator's key does not, and Registry answers hold for every repository", async (t) => {
  const scratch = scratchDir();
  const siblings = mirrorTail;
  await checkProperty(t, fc.asyncProperty(mirrorCase, fc.array(siblings, { minLength: 1, maxLength: 3 }), async (generated, siblingTails) => {
    const run = await inProcess(generated, scratch, false);
    const hosts = [...new Set(generated.mirrors!.flatMap((rule) => [rule.fromHost, rule.from.replace(/\/+$/, "")]))];
    const samples = sampleImages(hosts, generated.images);
    for (const image of generated.images) {
      const answer = await run.resolve(image);
      checkGranted(image, answer, generated, [...samples, ...sampleImages(Object.keys(answer.auth), [])]);
      if (answer.cacheKeyType !== "Registry") continue;
      for (const sibling of siblingTails.map((tail) => `${registryOf(image)}/${tail}`).filter(isKubeletName)) {
        // The kubelet reuses `answer` for `sibling` without asking credmux again.
        const own = lookupCredentials(Object.entries((await run.resolve(sibling)).auth), sibling);
        assert.deepEqual(lookupCredentials(Object.entries(answer.auth), sibling), own, `the Registry answer for ${image} gives ${sibling} other credentials than its own answer`);
      }
    }
  }), { numRuns: 800 });
});

test("through the bundle: every key of every answer is for the image's registry and no broader than the answering provider's matchImages", async (t) => {
  const scratch = tempDir();
  let id = 0;
  await checkProperty(t, fc.asyncProperty(generatedCase(), async (generated) => {
    const dir = path.join(scratch, String(id++));
    fs.mkdirSync(dir);
    const config = path.join(dir, "config.json");
    fs.writeFileSync(config, JSON.stringify(configDocument(generated, dir, { log: { level: "error" } })));
    const runs = await Promise.all(generated.images.map((image) => runBundle(["--config", config], {
      stdin: JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image }),
    })));
    runs.forEach((run, i) => {
      assert.equal(run.status, 0, run.stderr);
      checkAnswer(generated.images[i]!, JSON.parse(run.stdout).auth, generated);
    });
  }), { numRuns: 40 });
});
