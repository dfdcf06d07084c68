/**
 * Orders of text that are the same on every host: code units, and NodeIDs counted as
 * people count (node-2 before node-10). Never `localeCompare` or `Intl`: the first ICU
 * collator makes the process touch about 2 MB more of the node binary's ICU data, kept
 * resident (CONTRIBUTING, "Service RSS"; a date format 5 MB more), and a collator's order
 * depends on the locale and the ICU version besides.
 */

/** By UTF-16 code unit, as `<` compares strings: ISO timestamps and ids in their own order. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const RUNS = /\d+|\D+/g;

/**
 * node-2 before node-10: runs of digits compare as numbers (of any length), the rest by
 * code unit, and a name that is a prefix of another comes first. Equal by that (etcd-2
 * and etcd-02), the shorter comes first, then by code unit, so no two ids compare equal.
 */
export function compareNodeIds(a: string, b: string): number {
  const runsA = a.match(RUNS) ?? [];
  const runsB = b.match(RUNS) ?? [];
  for (let i = 0; i < Math.min(runsA.length, runsB.length); i++) {
    const [x, y] = [runsA[i]!, runsB[i]!];
    const order = isDigits(x) && isDigits(y) ? compareNumbers(x, y) : compareCodeUnits(x, y);
    if (order !== 0) return order;
  }
  return runsA.length - runsB.length || a.length - b.length || compareCodeUnits(a, b);
}

function isDigits(run: string): boolean {
  return run.charCodeAt(0) >= 48 && run.charCodeAt(0) <= 57;
}

/** Two runs of digits by value, without leading zeros: a longer number is the larger. */
function compareNumbers(x: string, y: string): number {
  const [m, n] = [x.replace(/^0+(?=\d)/, ''), y.replace(/^0+(?=\d)/, '')];
  return m.length - n.length || compareCodeUnits(m, n);
}
