/**
 * Strategy module sources for tests: a strategy that prices every single contract of the chain
 * (one tile per contract, ratio 1), with the given body for `score(def, value)` and optional code
 * before the export (module state: counters, buffers).
 */
export function singleLike(name: string, score: string, prelude = ''): string {
  return `${prelude}
export default function ({ makeTileDef }) {
  return {
    name: ${JSON.stringify(name)},
    usesSpot: false,
    enumerate(u) {
      const out = [];
      for (const g of u.listGroups()) for (const k of u.strikes(g)) out.push(makeTileDef(${JSON.stringify(name)}, g.root, g.expiration, g.right, [{ contract: u.get(g.root, g.expiration, g.right, k), ratio: 1 }]));
      return out;
    },
    score(def, value) { ${score} },
  };
}
`;
}
