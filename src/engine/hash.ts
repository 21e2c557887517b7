import * as crypto from 'node:crypto';

/** `crypto.hash` (one call, no Hash object: Node ≥ 20.12, 21.7); undefined on older Node 20. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

/** Where the pieces are put together for `oneShot` (grown as needed, reused: hashing is synchronous). */
let scratch = Buffer.allocUnsafeSlow(1 << 16);

/**
 * SHA-256 hex of `prev_hash` followed by the version's canonical JSON (DESIGN §3), given in pieces
 * (text or UTF-8 bytes) that are hashed in order: the digest of their concatenation. The pieces
 * are copied into one buffer and hashed in one call where Node has `crypto.hash`: a version's
 * Hash object and its several `update` calls cost more than the copy.
 */
export function chainHash(prevHash: string, ...canonicalJson: readonly (string | Uint8Array)[]): string {
  if (oneShot === undefined) {
    const h = crypto.createHash('sha256').update(prevHash);
    for (const piece of canonicalJson) h.update(piece);
    return h.digest('hex');
  }
  let most = prevHash.length * 3;
  for (const piece of canonicalJson) most += typeof piece === 'string' ? piece.length * 3 : piece.length;
  if (most > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(most, 2 * scratch.length));
  let n = scratch.write(prevHash, 0, 'utf8');
  for (const piece of canonicalJson) {
    if (typeof piece === 'string') n += scratch.write(piece, n, 'utf8');
    else {
      scratch.set(piece, n);
      n += piece.length;
    }
  }
  return oneShot('sha256', scratch.subarray(0, n), 'hex');
}
