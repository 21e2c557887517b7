// A strategy module: broken-wing butterflies. For each body strike K and width w (topology.widths),
// the far wing twice as wide, on the out-of-the-money side:
//   calls: +1 K−w, −2 K, +1 K+2w        puts: +1 K+w, −2 K, +1 K−2w
// value = Σ ratio × leg price (often a credit); score = value / w, as for the built-in fly.
// Run: heatmap replay fixtures/open-3m --strategy-module examples/broken-wing-butterfly.mjs --strategies bw-fly
export default function brokenWingButterfly({ makeTileDef }) {
  return {
    name: 'bw-fly',
    usesSpot: false,
    enumerate(universe, widths) {
      const tiles = [];
      for (const g of universe.listGroups()) {
        const out = g.right === 'C' ? 1 : -1; // the broken wing lies further out of the money
        for (const k of universe.strikes(g)) {
          for (const w of widths) {
            const near = universe.get(g.root, g.expiration, g.right, k - out * w);
            const body = universe.get(g.root, g.expiration, g.right, k);
            const far = universe.get(g.root, g.expiration, g.right, k + out * 2 * w);
            if (!near || !body || !far) continue;
            tiles.push(makeTileDef('bw-fly', g.root, g.expiration, g.right, [
              { contract: near, ratio: 1 },
              { contract: body, ratio: -2 },
              { contract: far, ratio: 1 },
            ]));
          }
        }
      }
      return tiles;
    },
    score(def, value) {
      const [lo, mid, hi] = def.strikes;
      return value / Math.min(mid - lo, hi - mid);
    },
  };
}
