/**
 * @module validation/known-keys: refuse option keys nobody reads. A misspelt option
 * (`runTimout`) would otherwise be ignored in silence, and the provider would run with the
 * default the user meant to change.
 */

/** Edit distance of `a` and `b` (insertions, deletions, substitutions), stopping early past `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** The known key `key` was most likely meant to be: same letters in another case, or at most two edits away. */
export function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameLetters = known.find((k) => k.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase(), 2);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/**
 * Throws a TypeError for the first own key of `options` that is not in `known`, naming the one
 * it was probably meant to be.
 *
 * @example
 * rejectUnknownKeys({ runTimout: 5 }, ['runTimeout'], 'createActionProvider')
 * // TypeError: createActionProvider: unknown option "runTimout" (did you mean "runTimeout"?)
 */
export function rejectUnknownKeys(options: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const meant = closest(key, known);
    const hint = meant === undefined ? `; known options: ${known.join(', ')}` : ` (did you mean "${meant}"?)`;
    throw new TypeError(`${where}: unknown option ${JSON.stringify(key)}${hint}`);
  }
}
