// Go duration strings: the kubelet parses cacheDuration with time.ParseDuration, and operators write
// the same spelling in both configs ("5m", "1h30m"), so credmux reads and writes exactly that.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
// µs and μs written as escapes: the bundle's main code is ASCII (src/startup/bundle-format.ts), read by boot.ts as latin1.
const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00B5s|\u03BCs|ms|s|m|h)/;

/** Parses a Go duration ("90s", "1h30m", "0") into milliseconds; undefined if Go would reject it. */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  while (rest !== "") {
    const part = PART.exec(rest);
    if (!part) return undefined;
    total += Number(part[1]) * UNIT_MS[part[2]!]!;
    rest = rest.slice(part[0].length);
  }
  return sign * total;
}

/** The longest duration Go represents (math.MaxInt64 nanoseconds): time.ParseDuration rejects longer ones. */
export const MAX_GO_DURATION_MS = 9_223_372_036_854;

/** Formats milliseconds, rounded down to whole seconds and at most Go's limit, as Go's Duration.String() does ("1h2m3s", "0s"). */
export function formatGoDuration(ms: number): string {
  let seconds = Number.isNaN(ms) ? 0 : Math.max(0, Math.floor(Math.min(ms, MAX_GO_DURATION_MS) / 1000));
  if (seconds === 0) return "0s";
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** A short human form for messages: "20s", "5m", "1h30m". */
export function describeDuration(ms: number): string {
  return formatGoDuration(ms).replace(/(\D)0s$/, "$1").replace(/(\d+h)0m$/, "$1");
}
