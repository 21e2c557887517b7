import type { Strategy } from '../engine/strategy.js';
import { declarePure, makeTileDef } from '../engine/strategy.js';
import { valuePerWidth, valuePerWidthBySlot } from './per-width.js';

/**
 * `fly` — butterfly +1 (K−w), −2 K, +1 (K+w), same right. Score: value / w.
 */
export const fly: Strategy = declarePure(
  {
    name: 'fly',
    usesSpot: false,
    enumerate(universe, widths) {
      const out = [];
      for (const g of universe.listGroups()) {
        for (const k of universe.strikes(g)) {
          const body = universe.get(g.root, g.expiration, g.right, k)!;
          for (const w of widths) {
            const lo = universe.get(g.root, g.expiration, g.right, k - w);
            const hi = universe.get(g.root, g.expiration, g.right, k + w);
            if (!lo || !hi) continue;
            out.push(
              makeTileDef('fly', g.root, g.expiration, g.right, [
                { contract: lo, ratio: 1 },
                { contract: body, ratio: -2 },
                { contract: hi, ratio: 1 },
              ]),
            );
          }
        }
      }
      return out;
    },
    score: valuePerWidth,
  },
  valuePerWidthBySlot,
);
