import type { Strategy } from '../engine/strategy.js';
import { declarePure, makeTileDef } from '../engine/strategy.js';
import { valuePerWidth, valuePerWidthBySlot } from './per-width.js';

/**
 * `vertical` — debit spread of width w. Call: +K −(K+w); put: +K −(K−w). Score: value / w.
 */
export const vertical: Strategy = declarePure(
  {
    name: 'vertical',
    usesSpot: false,
    enumerate(universe, widths) {
      const out = [];
      for (const g of universe.listGroups()) {
        for (const k of universe.strikes(g)) {
          const long = universe.get(g.root, g.expiration, g.right, k)!;
          for (const w of widths) {
            const short = universe.get(g.root, g.expiration, g.right, g.right === 'C' ? k + w : k - w);
            if (!short) continue;
            out.push(makeTileDef('vertical', g.root, g.expiration, g.right, [{ contract: long, ratio: 1 }, { contract: short, ratio: -1 }]));
          }
        }
      }
      return out;
    },
    score: valuePerWidth,
  },
  valuePerWidthBySlot,
);
