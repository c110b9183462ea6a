// "Did you mean" for names an operator typed: a command, an option, a config field. kubectl and git
// suggest the closest known name; so does credmux, where one is close enough to be a typo.

/** The number of single-character edits (insert, delete, substitute, swap neighbours) from a to b. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known name closest to `typed`, when it is within a typo's reach (a third of its length, at
 * least 1, at most 3); else the one name it is the start of (`accessKeySecret` for `accessKeySecretFile`).
 */
export function closestName(typed: string, known: Iterable<string>): string | undefined {
  const reach = Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
  const lower = typed.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  const extending: string[] = [];
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= reach && (best === undefined || distance < best.distance)) best = { name, distance };
    if (lower.length >= 4 && name.toLowerCase().startsWith(lower)) extending.push(name);
  }
  return best?.name ?? (extending.length === 1 ? extending[0] : undefined);
}

/** `; did you mean "x"?` for a suggestion, "" without one: for the end of a hint. */
export function didYouMean(typed: string, known: Iterable<string>): string {
  const name = closestName(typed, known);
  return name === undefined ? "" : `did you mean "${name}"?`;
}
