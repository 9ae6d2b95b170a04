import { isQuantity, maxmemoryBytes, parseQuantity } from '../../lib/core/quantity';

describe('Kubernetes quantities', () => {
  test.each([
    ['1048576', 1048576],
    ['512Ki', 512 * 1024],
    ['512Mi', 512 * 2 ** 20],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['2Ti', 2 * 2 ** 40],
    ['100k', 100_000],
    ['2M', 2_000_000],
    ['1G', 1_000_000_000],
    ['1e3', 1000],
    ['0.5Ki', 512],
  ])('%s = %d bytes', (text, bytes) => {
    expect(parseQuantity(text)).toBe(bytes);
    expect(isQuantity(text)).toBe(true);
  });

  test.each(['', '1GB', '1gi', '-1Gi', '100m', 'lots', '1.5.2Gi'])('rejects %j', (text) => {
    expect(isQuantity(text)).toBe(false);
    expect(() => parseQuantity(text)).toThrow(/not a Kubernetes quantity/);
  });
});

describe('maxmemory', () => {
  test('is 80% of the container limit by default (IBM, Azure reserve ~20%)', () => {
    expect(maxmemoryBytes('1Gi')).toBe(Math.floor(2 ** 30 * 0.8));
    expect(maxmemoryBytes('1G')).toBe(800_000_000);
  });
  test('ratio is configurable and bounded', () => {
    expect(maxmemoryBytes('1000', 0.5)).toBe(500);
    expect(maxmemoryBytes('1000', 1)).toBe(1000);
    expect(() => maxmemoryBytes('1Gi', 0)).toThrow(/\(0, 1\]/);
    expect(() => maxmemoryBytes('1Gi', 1.2)).toThrow(/\(0, 1\]/);
  });
});
