// A strategy module: short iron condors. For each centre strike K and width w (topology.widths):
//   +1 put K−2w, −1 put K−w, −1 call K+w, +1 call K+2w
// value = Σ ratio × leg price, a credit (negative); score = credit / w, the premium per point of risk.
// Run: heatmap replay fixtures/open-3m --strategy-module examples/iron-condor.mjs --strategies iron-condor
//
// The default export is a factory: heatmap calls it with its helpers, so this file needs no import
// and works from any folder. A tile key names one right; an iron condor's legs are puts and calls
// (each leg's contract says which), so its key says C.
export default function ironCondor({ makeTileDef }) {
  return {
    name: 'iron-condor',
    usesSpot: false,
    enumerate(universe, widths) {
      const tiles = [];
      for (const g of universe.listGroups()) {
        if (g.right !== 'C') continue; // one tile per centre, not one per right
        for (const k of universe.strikes(g)) {
          for (const w of widths) {
            const legs = [
              ['P', k - 2 * w, 1],
              ['P', k - w, -1],
              ['C', k + w, -1],
              ['C', k + 2 * w, 1],
            ].map(([right, strike, ratio]) => ({ contract: universe.get(g.root, g.expiration, right, strike), ratio }));
            if (legs.every((l) => l.contract !== undefined)) tiles.push(makeTileDef('iron-condor', g.root, g.expiration, 'C', legs));
          }
        }
      }
      return tiles;
    },
    score(def, value) {
      return -value / (def.strikes[1] - def.strikes[0]);
    },
  };
}
