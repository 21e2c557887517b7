import { createHash } from 'node:crypto';

/** SHA-256 hex of `prev_hash` followed by the version's canonical JSON (DESIGN §3). */
export function chainHash(prevHash: string, canonicalJson: string): string {
  return createHash('sha256').update(prevHash).update(canonicalJson).digest('hex');
}
