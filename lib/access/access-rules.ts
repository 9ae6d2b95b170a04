/**
 * Validation helpers shared by AccessPolicy, AccessGrant and the access option classes: port lists,
 * label selectors that must not be empty, option objects without unknown keys. Internal to
 * lib/access (the rule families themselves live in lib/core/rules.ts).
 */
import { Token } from '../core/cdktf';
import { PORT_ALLOWED, validateLabels } from '../core/rules';
import { isUnresolved, PropsValidator } from '../core/validation';

/** A TCP or UDP port number. */
export function isPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

/**
 * A list of ports: an array (a Terraform list token is refused, since one NetworkPolicy port entry is
 * written per element), each element an integer from 1 to 65535 or a number token. Returns whether
 * the list can be used.
 */
export function validatePorts(v: PropsValidator, prop: string, value: unknown, opts: { required?: boolean; nonEmpty?: boolean } = {}): boolean {
  const allowed = opts.nonEmpty ? 'a non-empty list of ports from 1 to 65535' : 'a list of ports from 1 to 65535';
  if (opts.required ? !v.required(prop, value, 'array', allowed) : !v.type(prop, value, 'array', allowed)) return false;
  if (value === undefined) return true;
  if (!v.known(prop, value, 'the policy lists each port, so the list itself must be known at synth time (a port inside it may be a token)')) return false;
  const list = value as unknown[];
  let ok = true;
  if (opts.nonEmpty && list.length === 0) {
    v.fail(prop, value, allowed);
    ok = false;
  }
  list.forEach((p, i) => {
    const item = `${prop}[${i}]`;
    ok = (v.type(item, p, 'number', PORT_ALLOWED) && v.check(item, p as number, isPort, PORT_ALLOWED)) && ok;
  });
  return ok;
}

/** A port as the provider takes it: a string, or the string form of a number token. */
export function portString(p: number): string {
  return isUnresolved(p) ? Token.asString(p) : String(p);
}

/** NetworkPolicy port entries for TCP ports. */
export function tcp(ports: readonly number[]): { port: string; protocol: string }[] {
  return ports.map((p) => ({ port: portString(p), protocol: 'TCP' }));
}

/**
 * A label selector that must select something specific: a valid label map with at least one label.
 * `empty` says what an empty selector would mean, and so why it is refused.
 */
export function validateSelector(v: PropsValidator, prop: string, value: unknown, empty: string, required = false): void {
  const allowed = 'a map of label keys to label values with at least one label';
  if (required ? !v.required(prop, value, 'object', allowed) : !v.type(prop, value, 'object', allowed)) return;
  if (value === undefined) return;
  if (!isUnresolved(value) && Object.keys(value as object).length === 0) {
    v.fail(prop, value, `at least one label (${empty})`);
    return;
  }
  validateLabels(v, prop, value);
}

/**
 * An options object: an object (not null, not an array) whose keys are all known; a misspelt option
 * (`namespace` for `namespaces`) would otherwise be ignored without a word. Returns whether the value
 * is an object whose known options can be checked (unknown keys are reported, not a reason to stop).
 */
export function validateOptions(v: PropsValidator, prop: string, value: unknown, known: readonly string[], allowed: string, required = false): boolean {
  if (required ? !v.required(prop, value, 'object', allowed) : !v.type(prop, value, 'object', allowed)) return false;
  if (value === undefined || isUnresolved(value)) return true;
  for (const key of Object.keys(value as object)) {
    if (!known.includes(key)) {
      v.fail(`${prop}.${key}`, (value as Record<string, unknown>)[key], `no such option (the options are ${known.join(', ')})`);
    }
  }
  return true;
}

/** A copy of a label map (a map token is kept as it is). */
export function copyLabels(labels: Record<string, string>): Record<string, string> {
  return isUnresolved(labels) ? labels : { ...labels };
}
