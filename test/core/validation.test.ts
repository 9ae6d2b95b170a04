import { Construct } from 'constructs';
import { PropsValidator, RedisTopologyValidationError } from '../../lib/core/validation';
import { TerraformVariable } from '../../lib/core/cdktf';
import { emptyStack } from '../helpers';

describe('PropsValidator', () => {
  test('one message naming the construct path, the prop, the bad value and what is allowed', () => {
    const c = new Construct(emptyStack(), 'Cache');
    const v = new PropsValidator(c);
    v.integer('replicas', 0, 1);
    expect(() => v.throwIfInvalid()).toThrow('test/Cache: invalid prop "replicas" = 0; allowed: an integer >= 1');
  });

  test('collects every violation into one error', () => {
    const c = new Construct(emptyStack(), 'Cache');
    const v = new PropsValidator(c);
    v.integer('a', 1.5, 1, 3);
    v.oneOf('b', 'x', ['y', 'z']);
    let err: RedisTopologyValidationError | undefined;
    try { v.throwIfInvalid(); } catch (e) { err = e as RedisTopologyValidationError; }
    expect(err).toBeInstanceOf(RedisTopologyValidationError);
    expect(err!.violations.map((x) => x.prop)).toEqual(['a', 'b']);
    expect(err!.message).toContain('"a" = 1.5; allowed: an integer from 1 to 3');
    expect(err!.message).toContain('"b" = "x"; allowed: one of "y", "z"');
  });

  test('skips unresolved tokens and undefined', () => {
    const stack = emptyStack();
    const variable = new TerraformVariable(stack, 'replicas', { type: 'number' });
    const v = new PropsValidator(new Construct(stack, 'C'));
    expect(v.integer('replicas', variable.numberValue, 1)).toBe(true);
    expect(v.integer('other', undefined, 1)).toBe(true);
    expect(v.check('name', variable.stringValue, () => false, 'never')).toBe(true);
    expect(v.hasViolations).toBe(false);
    expect(() => v.throwIfInvalid()).not.toThrow();
  });
});
