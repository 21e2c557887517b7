import type { Strategy } from '../engine/strategy.js';
import { declarePure, makeTileDef } from '../engine/strategy.js';

/**
 * `single` — one contract. Score: time value (value − intrinsic at spot) in basis points of spot.
 */
export const single: Strategy = declarePure(
  {
    name: 'single',
    usesSpot: true,
    enumerate(universe) {
      const out = [];
      for (const g of universe.listGroups()) {
        for (const k of universe.strikes(g)) {
          const c = universe.get(g.root, g.expiration, g.right, k)!;
          out.push(makeTileDef('single', g.root, g.expiration, g.right, [{ contract: c, ratio: 1 }]));
        }
      }
      return out;
    },
    score(def, value, spot) {
      if (spot === undefined || spot <= 0) return null;
      const k = def.strikes[0]!;
      const intrinsic = def.right === 'C' ? Math.max(0, spot - k) : Math.max(0, k - spot);
      return ((value - intrinsic) / spot) * 10_000;
    },
  },
  (defs) => {
    const strike = Float64Array.from(defs, (def) => def.strikes[0]!);
    const call = Uint8Array.from(defs, (def) => (def.right === 'C' ? 1 : 0));
    return (slot, io, at, spot) => {
      if (spot === undefined || spot <= 0) {
        io[at + 1] = NaN; // null
        return;
      }
      const k = strike[slot]!;
      const intrinsic = call[slot] === 1 ? Math.max(0, spot - k) : Math.max(0, k - spot);
      io[at + 1] = ((io[at]! - intrinsic) / spot) * 10_000;
    };
  },
);
