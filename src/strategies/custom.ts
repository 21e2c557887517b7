import type { CustomStrategyConfig } from '../engine/config.js';
import type { LegDef } from '../engine/types.js';
import type { Strategy } from '../engine/strategy.js';
import { declarePure, makeTileDef } from '../engine/strategy.js';

/**
 * `custom` — legs from config: ratios and strike offsets from an anchor strike K that runs over
 * every listed strike. Score: value / (highest strike − lowest strike); a one-leg structure scores
 * its value.
 */
export function createCustomStrategy(cfg: CustomStrategyConfig): Strategy {
  return declarePure({
    name: cfg.name,
    usesSpot: false,
    enumerate(universe) {
      const out = [];
      for (const g of universe.listGroups()) {
        if (!cfg.rights.includes(g.right)) continue;
        for (const k of universe.strikes(g)) {
          const legs: LegDef[] = [];
          for (const leg of cfg.legs) {
            const c = universe.get(g.root, g.expiration, g.right, k + leg.offset);
            if (!c) break;
            legs.push({ contract: c, ratio: leg.ratio });
          }
          if (legs.length === cfg.legs.length) out.push(makeTileDef(cfg.name, g.root, g.expiration, g.right, legs));
        }
      }
      return out;
    },
    score(def, value) {
      const span = def.strikes[def.strikes.length - 1]! - def.strikes[0]!;
      return span > 0 ? value / span : value;
    },
  });
}
