/**
 * The validation rule families every construct applies to its props, each a predicate plus the
 * words that say what is allowed. Constructs call the `validate*` helpers with a PropsValidator, so
 * one rule reads the same wherever it applies.
 */
import { isDnsLabel, isDnsSubdomain, isLabelKey, isLabelValue } from './names';
import { isQuantity, parseQuantity } from './quantity';
import { isUnresolved, PropsValidator } from './validation';

// --- container images -----------------------------------------------------------------------

const IMAGE_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_RE = new RegExp(
  `^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]+)?/)?`
  + `${IMAGE_COMPONENT}(?:/${IMAGE_COMPONENT})*`
  + '(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?'
  + '(?:@(sha256:[a-f0-9]{64}))?$',
);

export const IMAGE_ALLOWED = 'an image reference with a tag or a digest, no whitespace (e.g. redis:7.2.7, registry.example.com:5000/redis@sha256:<64 hex>)';

/** A container image reference that pins a tag or a digest (never the implicit `latest`). */
export function isImage(value: string): boolean {
  const m = IMAGE_RE.exec(value);
  return m !== null && (m[1] !== undefined || m[2] !== undefined);
}

// --- CPU and memory -------------------------------------------------------------------------

const CPU_RE = /^(?:([0-9]+)m|([0-9]+(?:\.[0-9]{1,3})?|\.[0-9]{1,3}))$/;
export const CPU_ALLOWED = 'a positive CPU quantity such as 250m, 0.5 or 2';
export const MEMORY_ALLOWED = 'a positive memory quantity such as 256Mi or 2Gi';

/** Millicores of a CPU quantity (`250m`, `0.5`, `2`), or undefined when it is not one. */
export function parseCpu(value: string): number | undefined {
  const m = CPU_RE.exec(value);
  if (!m) return undefined;
  return m[1] !== undefined ? Number(m[1]) : Math.round(Number(m[2]) * 1000);
}

export function isCpu(value: string): boolean {
  const milli = parseCpu(value);
  return milli !== undefined && milli > 0;
}

/** A memory quantity above zero. */
export function isMemory(value: string): boolean {
  return isQuantity(value) && parseQuantity(value) > 0;
}

export interface ContainerResourceProps {
  readonly cpuRequest?: string;
  readonly cpuLimit?: string;
  readonly memoryRequest?: string;
  readonly memoryLimit?: string;
}

/**
 * CPU and memory quantities of one container, and limits at least the requests. `names` maps
 * each field to the prop name the user wrote (e.g. `sentinelCpuRequest`).
 */
export function validateResources(v: PropsValidator, r: ContainerResourceProps, names: Partial<Record<keyof ContainerResourceProps, string>>): void {
  const name = (k: keyof ContainerResourceProps) => names[k] ?? k;
  const cpuOk = (k: 'cpuRequest' | 'cpuLimit') => v.type(name(k), r[k], 'string', CPU_ALLOWED) && v.check(name(k), r[k], isCpu, CPU_ALLOWED);
  const memOk = (k: 'memoryRequest' | 'memoryLimit') => v.type(name(k), r[k], 'string', MEMORY_ALLOWED) && v.check(name(k), r[k], isMemory, MEMORY_ALLOWED);
  const reqCpu = cpuOk('cpuRequest');
  const limCpu = cpuOk('cpuLimit');
  if (reqCpu && limCpu && known(r.cpuRequest) && known(r.cpuLimit) && parseCpu(r.cpuLimit!)! < parseCpu(r.cpuRequest!)!) {
    v.fail(name('cpuLimit'), r.cpuLimit, `at least ${name('cpuRequest')} (${r.cpuRequest})`);
  }
  const reqMem = memOk('memoryRequest');
  const limMem = memOk('memoryLimit');
  if (reqMem && limMem && known(r.memoryRequest) && known(r.memoryLimit) && parseQuantity(r.memoryLimit!) < parseQuantity(r.memoryRequest!)) {
    v.fail(name('memoryLimit'), r.memoryLimit, `at least ${name('memoryRequest')} (${r.memoryRequest})`);
  }
}

function known(value: string | undefined): boolean {
  return value !== undefined && !isUnresolved(value);
}

// --- labels, selectors, tolerations ---------------------------------------------------------

export const LABEL_KEY_ALLOWED = 'a label key: an optional DNS-subdomain prefix and "/", then at most 63 characters of letters, digits, "-", "_", "." that start and end with a letter or digit';
export const LABEL_VALUE_ALLOWED = 'a label value: empty, or at most 63 characters of letters, digits, "-", "_", "." that start and end with a letter or digit';

/** Every key and value of a label map (node selectors, pod labels, namespace labels). */
export function validateLabels(v: PropsValidator, prop: string, labels: unknown): void {
  if (labels === undefined) return;
  if (!v.type(prop, labels, 'object', 'a map of label keys to label values')) return;
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    v.check(`${prop} key`, key, isLabelKey, LABEL_KEY_ALLOWED);
    if (v.type(`${prop}[${JSON.stringify(key)}]`, value, 'string', LABEL_VALUE_ALLOWED)) {
      v.check(`${prop}[${JSON.stringify(key)}]`, value as string, isLabelValue, LABEL_VALUE_ALLOWED);
    }
  }
}

export const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export const TOLERATION_OPERATORS = ['Equal', 'Exists'] as const;

/** Tolerations as Kubernetes validates them: known effects and operators, Exists without a value, Equal with a key. */
export function validateTolerations(v: PropsValidator, prop: string, tolerations: unknown): void {
  if (tolerations === undefined) return;
  if (!v.type(prop, tolerations, 'array', 'a list of tolerations')) return;
  (tolerations as any[]).forEach((t, i) => {
    const p = `${prop}[${i}]`;
    if (!v.required(p, t, 'object', 'a toleration { key, operator?, value?, effect? }')) return;
    if (t.key !== undefined && t.key !== '') v.check(`${p}.key`, t.key, (k: unknown) => typeof k === 'string' && isLabelKey(k), LABEL_KEY_ALLOWED);
    v.oneOf(`${p}.effect`, t.effect, TOLERATION_EFFECTS);
    v.oneOf(`${p}.operator`, t.operator, TOLERATION_OPERATORS);
    const operator = t.operator ?? (t.value !== undefined ? 'Equal' : 'Exists');
    if (operator === 'Exists' && t.value !== undefined && t.value !== '') {
      v.fail(`${p}.value`, t.value, 'no value with operator Exists (it tolerates every value of the key)');
    }
    if (operator === 'Equal') {
      if (t.key === undefined || t.key === '') v.fail(`${p}.key`, t.key, 'a taint key with operator Equal (only Exists may leave the key empty)');
      if (t.value !== undefined) v.check(`${p}.value`, t.value, (x: unknown) => typeof x === 'string' && isLabelValue(x), LABEL_VALUE_ALLOWED);
    }
  });
}

// --- names ----------------------------------------------------------------------------------

export const NAMESPACE_ALLOWED = 'a namespace name: a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters)';

/** A namespace name, wherever one appears (tokens pass: Kubernetes checks them at apply time). */
export function validateNamespace(v: PropsValidator, prop: string, value: unknown, required = false): void {
  if (required ? !v.required(prop, value, 'string', NAMESPACE_ALLOWED) : !v.type(prop, value, 'string', NAMESPACE_ALLOWED)) return;
  v.check(prop, value as string | undefined, (n) => isDnsLabel(n), NAMESPACE_ALLOWED);
}

/** A list of namespace names: non-empty, each valid, no duplicates. */
export function validateNamespaces(v: PropsValidator, prop: string, value: unknown): void {
  if (value === undefined) return;
  if (!v.type(prop, value, 'array', 'a non-empty list of namespace names')) return;
  const list = value as unknown[];
  if (list.length === 0) v.fail(prop, value, 'a non-empty list of namespace names');
  const seen = new Set<unknown>();
  list.forEach((n, i) => {
    validateNamespace(v, `${prop}[${i}]`, n, true);
    if (seen.has(n)) v.fail(`${prop}[${i}]`, n, 'a namespace not already in the list');
    seen.add(n);
  });
}

export const DNS_NAME_ALLOWED = 'a DNS name: dot-separated labels of lower-case letters, digits and "-", none empty, at most 253 characters';

/** A DNS name such as a certificate SAN or a cluster domain (a leading `*.` only where wildcards are allowed). */
export function isDnsName(value: string, wildcard = false): boolean {
  const name = wildcard && value.startsWith('*.') ? value.slice(2) : value;
  return isDnsSubdomain(name);
}

export const ZONE_ALLOWED = 'a zone name: letters, digits, "-", "_" and ".", at most 63 characters, starting and ending with a letter or digit (e.g. eu-north-1a)';

/** A topology.kubernetes.io/zone value. */
export function isZoneName(value: string): boolean {
  return value.length > 0 && isLabelValue(value);
}

// --- ports, durations, ratios ---------------------------------------------------------------

export const PORT_ALLOWED = 'a port from 1 to 65535';
export const UNPRIVILEGED_PORT_ALLOWED = 'an unprivileged port from 1024 to 65535 (pods run without NET_BIND_SERVICE)';

/** Ports of one pod: each unprivileged, none used twice. `ports` maps prop names to values. */
export function validatePodPorts(v: PropsValidator, ports: Record<string, number | undefined>, fixed: Record<string, number> = {}): void {
  const used = new Map<number, string>(Object.entries(fixed).map(([name, port]) => [port, name]));
  for (const [prop, port] of Object.entries(ports)) {
    if (port === undefined) continue;
    if (!v.check(prop, port, (p) => Number.isInteger(p) && p >= 1024 && p <= 65535, UNPRIVILEGED_PORT_ALLOWED)) continue;
    if (isUnresolved(port)) continue;
    const other = used.get(port);
    if (other !== undefined) v.fail(prop, port, `a port not already used by ${other} in the same pod`);
    used.set(port, prop);
  }
}

const GO_DURATION_RE = /^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$/;
const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** Milliseconds of a Go duration (`2160h`, `1h30m`), or undefined when it is not one. */
export function parseGoDuration(value: string): number | undefined {
  if (!GO_DURATION_RE.test(value)) return undefined;
  let total = 0;
  for (const m of value.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * GO_UNITS[m[2]];
  return total;
}

export const GO_DURATION_ALLOWED = 'a positive Go duration such as 2160h or 1h30m';

export function isGoDuration(value: string): boolean {
  const ms = parseGoDuration(value);
  return ms !== undefined && ms > 0;
}

/** A finite number in [min, max]. */
export function validateRatio(v: PropsValidator, prop: string, value: number | undefined, min: number, max: number, why: string): void {
  if (!v.type(prop, value, 'number', `a number from ${min} to ${max}`)) return;
  v.check(prop, value, (r) => Number.isFinite(r) && r >= min && r <= max, `a number from ${min} to ${max}${why ? ` (${why})` : ''}`);
}
