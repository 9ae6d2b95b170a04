import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';

/** Provider bindings must be imported by deep path: the package root costs ~1 s and ~170 MB per process. */
const ROOT_IMPORT = /(from\s+|require\(\s*|import\(\s*)['"]@cdktf\/provider-[a-z0-9-]+['"]/;
/** cdktf itself is imported only through lib/core/cdktf.ts (and the test helpers), so a move to cdktn is a rename. */
const CDKTF_IMPORT = /(from\s+|require\(\s*)['"]cdktf['"]/;
const ALLOWED_CDKTF = new Set(['lib/core/cdktf.ts', 'test/helpers.ts', 'test/sentinel/two-stacks.test.ts']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === '__snapshots__' ? [] : files(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

const root = join(__dirname, '..');
const sources = ['lib', 'examples', 'test', 'bench'].flatMap((d) => {
  try { return files(join(root, d)); } catch { return []; }
}).map((p) => p.slice(root.length + 1));

test('sources exist to check', () => {
  expect(sources.filter((s) => s.startsWith('lib/')).length).toBeGreaterThan(5);
});

test('no provider package-root imports in lib/, examples/, test/ or bench/', () => {
  const offenders = sources.filter((f) => f !== 'test/imports.test.ts' && ROOT_IMPORT.test(readFileSync(join(root, f), 'utf8')));
  expect(offenders).toEqual([]);
});

test('cdktf is imported only through lib/core/cdktf.ts', () => {
  const offenders = sources.filter((f) => !ALLOWED_CDKTF.has(f) && f !== 'test/imports.test.ts' && CDKTF_IMPORT.test(readFileSync(join(root, f), 'utf8')));
  expect(offenders).toEqual([]);
});

test('the check itself catches a root import', () => {
  expect(ROOT_IMPORT.test("import { StatefulSetV1 } from '@cdktf/provider-kubernetes';")).toBe(true);
  expect(ROOT_IMPORT.test("import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';")).toBe(false);
  expect(ROOT_IMPORT.test("import { PrivateKey } from '@cdktf/provider-tls';")).toBe(true);
});
