import { createHash } from 'node:crypto';

/**
 * SHA-256 hex of `prev_hash` followed by the version's canonical JSON (DESIGN §3), given in pieces
 * (text or UTF-8 bytes) that are hashed in order: the digest of their concatenation.
 */
export function chainHash(prevHash: string, ...canonicalJson: readonly (string | Uint8Array)[]): string {
  const h = createHash('sha256').update(prevHash);
  for (const piece of canonicalJson) h.update(piece);
  return h.digest('hex');
}
