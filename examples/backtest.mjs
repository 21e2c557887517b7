// A mmaker-style backtest over the published fly heatmap: every minute, pick the best-scored fly
// and measure how its value moved over the next minute. Run: node examples/backtest.mjs REC
import { replay } from 'heatmap';

const MINUTE = 60_000_000; // µs
const tiles = new Map(); // key → the fly tile as last published
const picks = [];
let nextPick = -Infinity;
for await (const out of replay(process.argv[2] ?? 'fixtures/open-3m')) {
  if (out.type !== 'version' || out.strategy !== 'fly') continue;
  for (const t of out.upserts) tiles.set(t.key, t);
  for (const p of picks) if (p.exit === undefined && out.at_us >= p.at_us + MINUTE) p.exit = tiles.get(p.key).value;
  if (out.at_us < nextPick) continue;
  let best;
  for (const t of tiles.values()) if (t.score !== null && (best === undefined || t.score > best.score)) best = t;
  if (best === undefined) continue;
  picks.push({ at_us: out.at_us, key: best.key, entry: best.value, exit: undefined });
  nextPick = out.at_us + MINUTE;
}
let total = 0;
for (const p of picks) {
  const move = p.exit === undefined ? null : Math.round((p.exit - p.entry) * 1e6) / 1e6;
  if (move !== null) total += move;
  console.log(JSON.stringify({ at: new Date(p.at_us / 1000).toISOString(), key: p.key, entry: p.entry, exit: p.exit ?? null, move }));
}
console.log(JSON.stringify({ picks: picks.length, total_move: Math.round(total * 1e6) / 1e6 }));
