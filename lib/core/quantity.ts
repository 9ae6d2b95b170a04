const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY_RE = /^([+]?[0-9]+(?:\.[0-9]+)?|[+]?\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

/** True when the text is a Kubernetes memory or storage quantity this library understands. */
export function isQuantity(text: string): boolean {
  return QUANTITY_RE.test(text);
}

/**
 * Parses a Kubernetes quantity (`512Mi`, `1.5Gi`, `2G`, `100k`, `1e9`, `1048576`) into bytes, rounded
 * up to a whole byte as Kubernetes does. Throws on anything else, including milli-units (`m`), which
 * make no sense for memory.
 */
export function parseQuantity(text: string): number {
  const m = QUANTITY_RE.exec(text);
  if (!m) {
    throw new Error(`"${text}" is not a Kubernetes quantity (examples: 512Mi, 2Gi, 1G, 1048576)`);
  }
  const number = parseFloat(m[1]);
  const suffix = m[2];
  let factor = 1;
  if (suffix === undefined) factor = 1;
  else if (suffix in BINARY) factor = BINARY[suffix];
  else if (suffix in DECIMAL) factor = DECIMAL[suffix];
  else factor = Math.pow(10, parseInt(suffix.slice(1), 10));
  return Math.ceil(number * factor);
}

/** The default share of the container memory limit given to Redis data: IBM and Azure reserve ~20%. */
export const DEFAULT_MAXMEMORY_RATIO = 0.8;

/**
 * Redis `maxmemory` in bytes for a container memory limit: `floor(limit * ratio)`. The remainder is
 * left for replication buffers, copy-on-write during BGSAVE/AOF rewrite, and fragmentation.
 */
export function maxmemoryBytes(memoryLimit: string, ratio = DEFAULT_MAXMEMORY_RATIO): number {
  if (!(ratio > 0 && ratio <= 1)) {
    throw new Error(`maxmemory ratio must be in (0, 1], got ${ratio}`);
  }
  return Math.floor(parseQuantity(memoryLimit) * ratio);
}
