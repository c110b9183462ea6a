// Why a matchImages pattern does not match an image, in the terms of the kubelet's rule, so that
// `credmux explain` can tell an operator which part of a pattern to fix.
import { parseGoURL, splitHostPort } from "./go-url.js";
import { matchImage, urlsMatchStr } from "./match.js";

/** undefined when the pattern matches; otherwise the first reason, in the kubelet's order of checks. */
export function explainMatch(pattern: string, image: string): string | undefined {
  if (matchImage(pattern, image)) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pattern)) return "a matchImages pattern has no scheme; the kubelet reads this one as a host named after the scheme";
  const p = parseGoURL(`https://${pattern}`);
  const i = parseGoURL(`https://${image}`);
  if (!p) return "the kubelet cannot parse this pattern, so it never matches";
  if (!i) return "the kubelet cannot parse the image";
  const [pHost, pPort] = splitHostPort(p.host);
  const [iHost, iPort] = splitHostPort(i.host);
  if (pPort !== iPort) {
    return pPort === "" ? `the image has port ${iPort} and the pattern none; list "${pHost}:${iPort}" as well` : iPort === "" ? `the pattern requires port ${pPort}, the image has none` : `port ${pPort} is not the image's port ${iPort}`;
  }
  const pLabels = pHost.split(".");
  const iLabels = iHost.split(".");
  if (pLabels.length !== iLabels.length) {
    return `the pattern has ${pLabels.length} host label${pLabels.length === 1 ? "" : "s"} and ${iHost} has ${iLabels.length}; '*' never spans a dot`;
  }
  if (!i.path.startsWith(p.path)) {
    return p.path.includes("*") ? `path "${p.path}" is a plain prefix ('*' is literal there), and the image's path is "${i.path}"` : `the image's path "${i.path}" does not start with "${p.path}"`;
  }
  for (let index = 0; index < pLabels.length; index++) {
    if (!urlsMatchStr(pLabels[index]!, iLabels[index]!)) {
      const caseOnly = pLabels[index]!.toLowerCase() === iLabels[index]!.toLowerCase();
      return `host label "${pLabels[index]}" does not match "${iLabels[index]}"${caseOnly ? " (matching is case-sensitive)" : ""}`;
    }
  }
  return "does not match";
}
