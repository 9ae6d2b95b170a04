import { createHash } from 'crypto';

/** Pod-template annotation whose value changes whenever the rendered configuration does. */
export const CONFIG_CHECKSUM_ANNOTATION = 'redis-topologies.io/config-checksum';

/**
 * SHA-256 over a canonical form of the rendered configuration (keys sorted), so the same config
 * always gives the same checksum and any change to a file rolls the pods that mount it.
 */
export function configChecksum(...documents: ReadonlyArray<Readonly<Record<string, string>>>): string {
  const hash = createHash('sha256');
  for (const doc of documents) {
    for (const key of Object.keys(doc).sort()) {
      hash.update(key).update('\0').update(doc[key]).update('\0');
    }
    hash.update('\u0001');
  }
  return hash.digest('hex');
}

/** The annotation map for a pod template. */
export function checksumAnnotations(...documents: ReadonlyArray<Readonly<Record<string, string>>>): Record<string, string> {
  return { [CONFIG_CHECKSUM_ANNOTATION]: configChecksum(...documents) };
}
