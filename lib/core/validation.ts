import { IConstruct } from 'constructs';
import { Token } from './cdktf';

/** One rejected prop: which construct, which prop, what value, what would have been accepted. */
export interface PropViolation {
  readonly constructPath: string;
  readonly prop: string;
  readonly value: unknown;
  readonly allowed: string;
}

/**
 * Thrown at construction time when props are invalid. Because it is thrown from the construct's
 * constructor, synthesis never starts and nothing is written.
 */
export class RedisTopologyValidationError extends Error {
  public readonly violations: readonly PropViolation[];

  constructor(violations: readonly PropViolation[]) {
    super(violations.map(formatViolation).join('\n'));
    this.name = 'RedisTopologyValidationError';
    this.violations = violations;
  }
}

/** `<path>: invalid prop "<prop>" = <value>; allowed: <allowed>` */
export function formatViolation(v: PropViolation): string {
  return `${v.constructPath}: invalid prop "${v.prop}" = ${describeValue(v.value)}; allowed: ${v.allowed}`;
}

/** A value as the user wrote it: strings quoted, NaN and Infinity as themselves, objects by class. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return isUnresolved(value) ? `a Terraform token ${JSON.stringify(value)}` : JSON.stringify(value);
  if (typeof value === 'number' && isUnresolved(value)) return 'a Terraform token (number)';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `a function${value.name ? ` ${value.name}` : ''}`;
  if (typeof value === 'symbol') return value.toString();
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== null && proto !== Object.prototype && proto !== Array.prototype && typeof proto.constructor === 'function') {
      const fields = safeJson(value);
      return `a ${proto.constructor.name}${fields && fields !== '{}' ? ` ${fields}` : ''}`;
    }
  }
  return safeJson(value) ?? String(value);
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  } catch {
    return undefined;
  }
}

/** The constructor of a library class whose constructor is private (enum-like option classes). */
// eslint-disable-next-line @typescript-eslint/ban-types
export type OptionClass<T> = Function & { readonly prototype: T };

/** True when the value (or anything inside it) is a cdktf token that only resolves at apply time. */
export function isUnresolved(value: unknown): boolean {
  return Token.isUnresolved(value);
}

/**
 * Collects every problem with a construct's props, then throws them together. Checks on values that
 * are unresolved tokens are skipped: they cannot be judged at synth time.
 *
 * ```ts
 * const v = new PropsValidator(this);
 * v.check('replicas', props.replicas, (n) => n >= 1, 'an integer >= 1');
 * v.throwIfInvalid();
 * ```
 */
export class PropsValidator {
  private readonly violations: PropViolation[] = [];

  constructor(private readonly scope: IConstruct) {}

  /** Records a violation when `value` is defined, resolved and fails `ok`. Returns whether it passed. */
  public check<T>(prop: string, value: T | undefined, ok: (v: T) => boolean, allowed: string): boolean {
    if (value === undefined || isUnresolved(value)) return true;
    if (ok(value)) return true;
    this.fail(prop, value, allowed);
    return false;
  }

  /** Records a violation unconditionally (for rules that involve several props). */
  public fail(prop: string, value: unknown, allowed: string): void {
    this.violations.push({ constructPath: this.scope.node.path, prop, value, allowed });
  }

  /**
   * A required prop: present (not undefined or null) and of the given JavaScript type. For callers
   * in plain JavaScript, where the compiler did not check. Returns whether it passed.
   */
  public required(prop: string, value: unknown, type: 'string' | 'number' | 'boolean' | 'object' | 'array', allowed: string): boolean {
    if (value === undefined || value === null) {
      this.fail(prop, value, `${allowed} (required)`);
      return false;
    }
    return this.type(prop, value, type, allowed);
  }

  /** An optional prop of the given JavaScript type (tokens pass as strings, numbers and lists). */
  public type(prop: string, value: unknown, type: 'string' | 'number' | 'boolean' | 'object' | 'array', allowed: string): boolean {
    if (value === undefined) return true;
    const ok = type === 'array' ? Array.isArray(value) : type === 'object' ? value !== null && typeof value === 'object' && !Array.isArray(value) : typeof value === type;
    if (!ok) this.fail(prop, value, allowed);
    return ok;
  }

  /**
   * An optional string prop: a string (tokens pass as strings) that passes `ok` when resolved.
   * Returns whether it passed.
   */
  public string(prop: string, value: unknown, ok: (s: string) => boolean, allowed: string): boolean {
    return this.type(prop, value, 'string', allowed) && this.check(prop, value as string | undefined, ok, allowed);
  }

  /** A required string prop: present, a string, and passing `ok` when resolved. Returns whether it passed. */
  public requiredString(prop: string, value: unknown, ok: (s: string) => boolean, allowed: string): boolean {
    return this.required(prop, value, 'string', allowed) && this.check(prop, value as string, ok, allowed);
  }

  /**
   * A required instance of an enum-like class: missing gives `<factories> (required)`, anything
   * else that is not an instance (a look-alike object, a string) gives `one of <factories>`.
   */
  public requiredOption<T>(prop: string, value: unknown, cls: OptionClass<T>, factories: string): value is T {
    if (value === undefined || value === null) {
      this.required(prop, value, 'object', factories);
      return false;
    }
    return this.option(prop, value as T, cls, factories);
  }

  /**
   * An instance of one of the library's enum-like classes, made by its static factories: a
   * look-alike object (`{ value: 'TLSv1.0' }`) or a string from JavaScript is refused, naming the
   * factories that make a valid one.
   */
  public option<T>(prop: string, value: T | undefined, cls: OptionClass<T>, factories: string): boolean {
    if (value === undefined) return true;
    if (value instanceof (cls as unknown as new () => T)) return true;
    this.fail(prop, value, `one of ${factories}`);
    return false;
  }

  /**
   * A value needed at synth time: a Terraform token (a variable, another resource's attribute) is
   * refused, saying why it must be known when the plan is written.
   */
  public known(prop: string, value: unknown, why: string): boolean {
    if (value === undefined || !isUnresolved(value)) return true;
    this.fail(prop, value, `a literal value, not a Terraform token: ${why}`);
    return false;
  }

  public integer(prop: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
    const allowed = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    return this.check(prop, value, (n) => Number.isInteger(n) && n >= min && n <= max, allowed);
  }

  public oneOf<T>(prop: string, value: T | undefined, options: readonly T[]): boolean {
    return this.check(prop, value, (v) => options.includes(v), `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`);
  }

  /** Whether a violation was recorded for `prop` or a prop under it (`prop.x`, `prop[0]`). */
  public failed(prop: string): boolean {
    return this.violations.some((x) => x.prop === prop || x.prop.startsWith(`${prop}.`) || x.prop.startsWith(`${prop}[`));
  }

  public get hasViolations(): boolean {
    return this.violations.length > 0;
  }

  public throwIfInvalid(): void {
    if (this.violations.length > 0) throw new RedisTopologyValidationError(this.violations);
  }
}
