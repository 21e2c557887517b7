/**
 * Growable typed-array columns: the engine keeps per-slot and per-ticker state in typed arrays
 * indexed by a dense id (no object per tile per recompute, no string-keyed lookups on the hot
 * path). Ids only grow, so a column only ever needs to get longer.
 */

type Column = Float64Array | Int32Array | Uint8Array | Uint32Array;

/** `a` if it holds `need` entries, else a copy at least twice as long (new entries are 0). */
export function grown<T extends Column>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2, 16));
  b.set(a);
  return b;
}
