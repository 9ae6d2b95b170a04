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

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

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

  public integer(prop: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
    const allowed = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    return this.check(prop, value, (n) => Number.isInteger(n) && n >= min && n <= max, allowed);
  }

  public oneOf<T>(prop: string, value: T | undefined, options: readonly T[]): boolean {
    return this.check(prop, value, (v) => options.includes(v), `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`);
  }

  public get hasViolations(): boolean {
    return this.violations.length > 0;
  }

  public throwIfInvalid(): void {
    if (this.violations.length > 0) throw new RedisTopologyValidationError(this.violations);
  }
}
