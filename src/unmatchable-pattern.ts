// Patterns the kubelet accepts but that can never select an image it asks for: its own validation
// only parses them, so without this check `validate` and `kubelet-config` pass them on and every
// pull the operator meant them for goes anonymous (an empty answer, exit 0, then a 401).

/** Hosts that serve Docker Hub but that no image name the kubelet sends starts with (it sends docker.io/...). */
const DOCKER_HUB_ALIASES = new Set(["index.docker.io", "registry-1.docker.io"]);

/** Why a matchImages (or mirror `from`) pattern can never match an image the kubelet sends; undefined when it can. */
export function unmatchablePatternProblem(pattern: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(pattern);
  if (scheme) {
    return `starts with "${scheme[1]}://", which no image name has (the kubelet matches patterns as written): write the registry as host[:port][/path]`;
  }
  const hostPort = pattern.split("/", 1)[0]!;
  // An IPv6 literal's colons are not label separators, and it has no dots to check.
  if (hostPort.startsWith("[")) return undefined;
  const host = hostPort.replace(/:[0-9]*$/, "");
  if (host.split(".").includes("")) {
    return "has an empty label in its host (a leading, trailing or doubled '.'), which no registry's name has";
  }
  if (DOCKER_HUB_ALIASES.has(host)) {
    return `names ${host}, but the kubelet asks for Docker Hub images as docker.io/...: write docker.io${pattern.slice(hostPort.length)}`;
  }
  return undefined;
}
