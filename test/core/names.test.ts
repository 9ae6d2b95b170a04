import {
  childName, CRONJOB_NAME_MAX_LENGTH, isDnsLabel, isDnsSubdomain, isLabelKey, isLabelValue, isPortName, PORT_NAME_MAX_LENGTH,
  resourceName, toDnsLabel,
} from '../../lib/core/names';
import { emptyStack } from '../helpers';
import { Construct } from 'constructs';

describe('DNS names', () => {
  test('labels: 63 characters, lower-case alphanumerics and dashes, alphanumeric ends', () => {
    expect(isDnsLabel('redis-0')).toBe(true);
    expect(isDnsLabel('a'.repeat(63))).toBe(true);
    expect(isDnsLabel('a'.repeat(64))).toBe(false);
    expect(isDnsLabel('Redis')).toBe(false);
    expect(isDnsLabel('-redis')).toBe(false);
    expect(isDnsLabel('redis-')).toBe(false);
    expect(isDnsLabel('re.dis')).toBe(false);
    expect(isDnsLabel('')).toBe(false);
    expect(isDnsLabel('my-cronjob'.padEnd(52, 'x'), CRONJOB_NAME_MAX_LENGTH)).toBe(true);
    expect(isDnsLabel('my-cronjob'.padEnd(53, 'x'), CRONJOB_NAME_MAX_LENGTH)).toBe(false);
  });

  test('subdomains: dotted labels, 253 characters', () => {
    expect(isDnsSubdomain('redis.cache.svc')).toBe(true);
    expect(isDnsSubdomain('a..b')).toBe(false);
    expect(isDnsSubdomain(Array(64).fill('abc').join('.'))).toBe(false);
  });

  test('port names: 15 characters, a letter, no double dash', () => {
    expect(isPortName('redis')).toBe(true);
    expect(isPortName('redis-sentinel1')).toBe(true);
    expect(isPortName('a'.repeat(PORT_NAME_MAX_LENGTH + 1))).toBe(false);
    expect(isPortName('6379')).toBe(false);
    expect(isPortName('redis--tls')).toBe(false);
  });

  test('label keys and values', () => {
    expect(isLabelKey('elastisys.io/redis-cache-access')).toBe(true);
    expect(isLabelKey('app.kubernetes.io/name')).toBe(true);
    expect(isLabelKey('Bad Prefix/x')).toBe(false);
    expect(isLabelKey('x/' + 'a'.repeat(64))).toBe(false);
    expect(isLabelValue('allow')).toBe(true);
    expect(isLabelValue('')).toBe(true);
    expect(isLabelValue('-x')).toBe(false);
  });
});

describe('name derivation', () => {
  test('normalises construct ids', () => {
    expect(toDnsLabel('SessionCache')).toBe('session-cache');
    expect(toDnsLabel('my_cache.v2')).toBe('my-cache-v2');
    expect(toDnsLabel('9lives')).toBe('r-9lives');
  });

  test('long ids are cut with a stable hash, so distinct ids stay distinct', () => {
    const a = toDnsLabel('A'.repeat(80) + 'one');
    const b = toDnsLabel('A'.repeat(80) + 'two');
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(toDnsLabel('A'.repeat(80) + 'one')).toBe(a);
    expect(isDnsLabel(a)).toBe(true);
  });

  test('resource names come from the construct id, not its path', () => {
    const stack = emptyStack();
    const deep = new Construct(new Construct(stack, 'Group'), 'OrdersCache');
    const top = new Construct(stack, 'OrdersCache');
    expect(resourceName(deep)).toBe('orders-cache');
    expect(resourceName(top)).toBe(resourceName(deep));
    expect(resourceName(top, 'explicit')).toBe('explicit');
  });

  test('child names stay within the limit', () => {
    expect(childName('cache', 'sentinel')).toBe('cache-sentinel');
    const long = childName('c'.repeat(60), 'sentinel-headless');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long.endsWith('-sentinel-headless')).toBe(true);
    expect(isDnsLabel(long)).toBe(true);
  });
});
