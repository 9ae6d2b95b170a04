import { createHash } from 'crypto';
import { IConstruct } from 'constructs';

/** Most Kubernetes object names, label values and Service names: RFC 1123 labels of at most 63 characters. */
export const DNS_LABEL_MAX_LENGTH = 63;
/** ConfigMap, Secret, StorageClass names: RFC 1123 subdomains of at most 253 characters. */
export const DNS_SUBDOMAIN_MAX_LENGTH = 253;
/** Container and Service port names (IANA_SVC_NAME). */
export const PORT_NAME_MAX_LENGTH = 15;
/** CronJob names: 52, because the controller appends an 11-character suffix to Job names. */
export const CRONJOB_NAME_MAX_LENGTH = 52;

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** An RFC 1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric. */
export function isDnsLabel(value: string, maxLength = DNS_LABEL_MAX_LENGTH): boolean {
  return value.length > 0 && value.length <= maxLength && LABEL_RE.test(value);
}

/** An RFC 1123 subdomain: dot-separated labels, at most 253 characters. */
export function isDnsSubdomain(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= DNS_SUBDOMAIN_MAX_LENGTH &&
    value.split('.').every((part) => isDnsLabel(part))
  );
}

/** A port name: at most 15 characters, lower-case alphanumerics and '-', at least one letter, no '--'. */
export function isPortName(value: string): boolean {
  return (
    isDnsLabel(value, PORT_NAME_MAX_LENGTH) && /[a-z]/.test(value) && !value.includes('--')
  );
}

/** A label value: empty, or at most 63 characters of alphanumerics, '-', '_', '.', alphanumeric at both ends. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(value));
}

/** A qualified label key: optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export function isLabelKey(value: string): boolean {
  const slash = value.lastIndexOf('/');
  const prefix = slash >= 0 ? value.slice(0, slash) : undefined;
  const name = slash >= 0 ? value.slice(slash + 1) : value;
  if (prefix !== undefined && !isDnsSubdomain(prefix)) return false;
  return name.length > 0 && name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
}

/** Eight hex characters of SHA-256: short, stable, good enough to keep truncated names distinct. */
export function shortHash(input: string): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 8);
}

/**
 * Turns free text (usually a construct id) into a valid DNS label of at most `maxLength` characters.
 * Names that fit are only normalised (`MyCache` -> `mycache`, `a_b` -> `a-b`); longer ones are cut and
 * given a hash of the full text, so two long ids never collide and the result never changes for the
 * same input.
 */
export function toDnsLabel(text: string, maxLength = DNS_LABEL_MAX_LENGTH): string {
  let name = text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (name === '') name = 'x' + shortHash(text);
  if (!/^[a-z]/.test(name)) name = 'r-' + name;
  if (name.length <= maxLength) return name;
  const hash = shortHash(text);
  return name.slice(0, maxLength - hash.length - 1).replace(/-+$/, '') + '-' + hash;
}

/**
 * The Kubernetes name for a construct: the explicit name if given, else derived from the construct's
 * own id (not its path), so moving a construct in the tree does not rename the object in the cluster.
 */
export function resourceName(scope: IConstruct, explicit?: string, maxLength = DNS_LABEL_MAX_LENGTH): string {
  return explicit ?? toDnsLabel(scope.node.id, maxLength);
}

/** `<base>-<suffix>`, kept within `maxLength` by shortening the base with a stable hash. */
export function childName(base: string, suffix: string, maxLength = DNS_LABEL_MAX_LENGTH): string {
  const full = `${base}-${suffix}`;
  if (full.length <= maxLength) return full;
  const hash = shortHash(full);
  const room = maxLength - suffix.length - hash.length - 2;
  return `${base.slice(0, Math.max(1, room)).replace(/-+$/, '')}-${hash}-${suffix}`;
}
