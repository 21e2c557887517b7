/**
 * Folding one strategy's SSE stream into its tiles: the README's fold ("Output: the
 * published-version stream"), completed with the two details of format 2 snapshots (DESIGN §3.1,
 * ARCHITECTURE.md "Format 2") and with format 1.
 *
 * - `event: snapshot` replaces the state: format 2 `{format:2,strategy,version,at_us,hash,slots,marks,tiles}`
 *   (a row's 5th element picks the leg whose ts_us/source the tile takes, its 6th gives older
 *   marks some legs still carry), or format 1 `{strategy,version,at_us,hash,tiles:[whole tiles]}`.
 * - `event: diff` is the NDJSON version line: removes first, then format 1 `upserts` (whole
 *   tiles) or format 2 `slots` + `marks` + `tiles` rows.
 *
 * Tiles come out as format 1 objects, so the view reads one shape whatever the stream's format.
 * Pure: no DOM, no network (the tests import it in Node too).
 */

/** One strategy's folded state. `version` is -1 until the first snapshot. */
export class StrategyFold {
  constructor(strategy) {
    this.strategy = strategy;
    this.version = -1;
    this.at_us = null;
    this.hash = '';
    /** Format 2: tile identities by key, and the stream's mark register by ticker. */
    this.slots = new Map();
    this.marks = new Map();
    /** key → format 1 tile object. */
    this.tiles = new Map();
    /** Bumped by every change: the view re-renders when it moved. */
    this.revision = 0;
    /** Rows that could not be folded (a slot or mark never seen): should stay 0. */
    this.errors = 0;
  }

  /** True once a snapshot has been folded (a resume then asks for the diffs after `version`). */
  get hasState() {
    return this.version >= 0;
  }

  /** Folds a snapshot: the full state at its version. */
  snapshot(msg) {
    this.slots.clear();
    this.marks.clear();
    this.tiles.clear();
    const strategy = msg.strategy ?? this.strategy;
    if (msg.format === 2) {
      for (const s of msg.slots) this.slots.set(s.key, s);
      for (const m of msg.marks) this.marks.set(m[0], m);
      for (const row of msg.tiles) this.setRow(row, strategy);
    } else {
      for (const t of msg.tiles) this.tiles.set(t.key, t);
    }
    this.head(msg);
  }

  /**
   * Folds a diff. Returns `applied`, `old` (a version already held: ignored), `gap` (a version is
   * missing before it) or `foreign` (its `prev_hash` is not the hash held: another run's history,
   * e.g. a server restarted past the version held). Only `applied` changes the state.
   */
  diff(msg) {
    if (msg.version <= this.version) return 'old';
    if (msg.version !== this.version + 1) return 'gap';
    if (msg.prev_hash !== undefined && msg.prev_hash !== this.hash) return 'foreign';
    for (const key of msg.removes ?? []) this.tiles.delete(key);
    if (Array.isArray(msg.upserts)) {
      for (const t of msg.upserts) this.tiles.set(t.key, t);
    } else {
      for (const s of msg.slots) this.slots.set(s.key, s);
      for (const m of msg.marks) this.marks.set(m[0], m);
      for (const row of msg.tiles) this.setRow(row, msg.strategy ?? this.strategy);
    }
    this.head(msg);
    return 'applied';
  }

  /** The tiles sorted by key (code-unit order, as the server sorts them). */
  sortedTiles() {
    return [...this.tiles.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => this.tiles.get(k));
  }

  head(msg) {
    this.version = msg.version;
    this.at_us = msg.at_us ?? null;
    this.hash = msg.hash ?? '';
    this.revision++;
  }

  /** A format 2 row `[key, value, score, confidence, newest?, ownMarks?]` → a format 1 tile. */
  setRow(row, strategy) {
    const [key, value, score, confidence] = row;
    const slot = this.slots.get(key);
    if (slot === undefined) {
      this.errors++;
      return;
    }
    const own = row[5];
    const legs = [];
    let newest = 0;
    for (let i = 0; i < slot.legs.length; i++) {
      const l = slot.legs[i];
      const o = own?.[i];
      const m = o ?? this.marks.get(l.ticker)?.slice(1);
      if (m === undefined) {
        this.errors++;
        return;
      }
      legs.push({ ticker: l.ticker, ratio: l.ratio, price: m[0], ts_us: m[1], source: m[2] });
      if (legs[i].ts_us > legs[newest].ts_us) newest = i;
    }
    // the first leg with the greatest ts_us, unless the row names another one
    if (typeof row[4] === 'number') newest = row[4];
    const n = legs[newest];
    this.tiles.set(key, {
      key,
      root: slot.root,
      expiration: slot.expiration,
      strategy,
      right: slot.right,
      strikes: slot.strikes,
      legs,
      value,
      score,
      ts_us: n.ts_us,
      confidence,
      source: n.source,
    });
  }
}
