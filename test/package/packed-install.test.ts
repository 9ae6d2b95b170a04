// The package as a platform repo gets it: `npm pack` on a fresh clone (which runs `prepare`, the build),
// the tarball installed next to the peer versions this repo locks, and the README's usage example
// compiled against the tarball's .d.ts and synthesized with the tarball's JavaScript.
//
// The scratch installs use --prefer-offline: whatever the npm cache holds is used without asking the
// registry, and only what it lacks is fetched. `npm ci` caches the tarballs but not the packuments an
// install without a lock file resolves versions from, so plain --offline fails on a fresh machine
// until the first online run has cached them.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, sep } from 'path';
import { childEnv, copyAsFreshClone, onlyTarball, readmeUsageBlock, run } from './scratch';

const root = join(__dirname, '..', '..');
const PEERS = ['cdktf', 'constructs', '@cdktf/provider-kubernetes', '@cdktf/provider-helm', '@cdktf/provider-random', '@cdktf/provider-tls'];
/** The cdktf release that made npm nest a second cdktf under the library (issue 8). */
const OLD_CDKTF = '0.20.12';
const INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund'];

const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const repoPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const locked = (name: string): string => {
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`package-lock.json has no node_modules/${name}`);
  return version;
};

let tmp: string;
let src: string;
let tarball: string;
let entries: string[];
let packed: any;

/** Writes a scratch app's package.json: the given dependencies plus the tarball. */
function scratchApp(dir: string, dependencies: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: 'platform', version: '0.0.0', private: true,
    dependencies: { ...dependencies, 'redis-topologies': `file:${tarball}` },
  }, null, 2));
  return dir;
}

// Stage 1, which everything needs: pack a fresh clone of the working tree (shares this repo's installed
// devDependencies; `npm pack` runs `prepare`, the build).
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'redis-topologies-pack-'))); // real: npm ls prints real paths
  src = join(tmp, 'src');
  copyAsFreshClone(root, src);
  symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
  const packDir = join(tmp, 'pack');
  mkdirSync(packDir);
  run('npm', ['pack', '--pack-destination', packDir], src);
  tarball = onlyTarball(readdirSync(packDir), packDir);
  entries = run('tar', ['tzf', tarball], tmp).stdout.split('\n').filter(Boolean).map((e) => e.replace(/^package\//, ''));
  packed = JSON.parse(run('tar', ['xzOf', tarball, 'package/package.json'], tmp).stdout);
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('npm pack on a fresh clone', () => {
  test('ships the compiled JavaScript and declarations', () => {
    expect(entries).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/lib/index.js', 'dist/lib/index.d.ts']));
  });

  test('ships a .js and a .d.ts for every lib/ source', () => {
    const sources = readdirSync(join(src, 'lib'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => `lib/${f.split(sep).join('/')}`);
    expect(sources.length).toBeGreaterThan(5);
    const missing = sources.flatMap((s) => [`dist/${s.replace(/\.ts$/, '.js')}`, `dist/${s.replace(/\.ts$/, '.d.ts')}`])
      .filter((f) => !entries.includes(f));
    expect(missing).toEqual([]);
  });

  test('ships nothing else: no sources, tests, examples or benchmarks', () => {
    expect(entries.filter((e) => !/^(package\.json|README\.md|LICEN[CS]E(\.\w+)?|dist\/lib\/.+\.(js|d\.ts))$/.test(e))).toEqual([]);
    expect(entries.filter((e) => /^(dist\/)?(test|examples|bench|scripts)\//.test(e))).toEqual([]);
  });

  test('cdktf, constructs and the providers are peer dependencies only', () => {
    expect(Object.keys(packed.peerDependencies ?? {}).sort()).toEqual([...PEERS].sort());
    const deps = Object.keys(packed.dependencies ?? {});
    expect(deps.filter((d) => PEERS.includes(d) || d.startsWith('@cdktf/'))).toEqual([]);
  });

  test('the README install command asks for each peer at its range', () => {
    const words = readmeUsageBlock(join(root, 'README.md'), 'sh').replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean);
    expect(words.slice(0, 3)).toEqual(['npm', 'install', 'redis-topologies']);
    expect(words.slice(3).sort()).toEqual(PEERS.map((p) => `${p}@${packed.peerDependencies[p]}`).sort());
  });

  test('the repo pins each peer exactly, at the locked version, as a devDependency', () => {
    for (const peer of PEERS) expect([peer, repoPackage.devDependencies[peer]]).toEqual([peer, locked(peer)]);
    expect(Object.keys(repoPackage.dependencies ?? {}).filter((d) => PEERS.includes(d))).toEqual([]);
  });
});

describe('installed in a cdktf app', () => {
  let app: string;
  let tscFiles: string;

  // Stage 2: a platform repo on the locked peer versions installs the tarball, then compiles the
  // README's usage example against it and synthesizes it.
  beforeAll(() => {
    app = scratchApp(join(tmp, 'app'), Object.fromEntries(PEERS.map((p) => [p, locked(p)])));
    run('npm', INSTALL, app);
    mkdirSync(join(app, 'src'));
    writeFileSync(join(app, 'src', 'main.ts'), readmeUsageBlock(join(root, 'README.md'), 'ts'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, module: 'commonjs', moduleResolution: 'node', target: 'es2022', lib: ['es2022'],
        skipLibCheck: true, types: [], rootDir: 'src', outDir: 'out',
      },
      include: ['src'],
    }));
    // --listFiles: which declaration files the example was checked against.
    const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
    tscFiles = run(process.execPath, [tsc, '-p', 'tsconfig.json', '--listFiles'], app).stdout;
    run(process.execPath, [join('out', 'main.js')], app, { env: childEnv({ CDKTF_OUTDIR: join(app, 'cdktf.out') }) });
  }, 120_000);

  test('one cdktf and one constructs in the tree, none nested under the library', () => {
    for (const name of ['cdktf', 'constructs']) {
      const paths = run('npm', ['ls', name, '--all', '--parseable'], app).stdout.split('\n').filter(Boolean);
      expect([name, paths]).toEqual([name, [join(app, 'node_modules', name)]]);
      const versions = new Set<string>();
      const walk = (node: any) => {
        for (const [dep, child] of Object.entries<any>(node.dependencies ?? {})) {
          if (dep === name) versions.add(child.version);
          walk(child);
        }
      };
      walk(JSON.parse(run('npm', ['ls', name, '--all', '--json'], app).stdout));
      expect([name, [...versions]]).toEqual([name, [locked(name)]]);
    }
    const nested = join(app, 'node_modules', 'redis-topologies', 'node_modules');
    expect(existsSync(nested) ? readdirSync(nested) : []).toEqual([]);
  });

  test('the library resolves the app\'s own cdktf and constructs at run time', () => {
    const probe = `const lib = require('path').dirname(require.resolve('redis-topologies/package.json'));
      console.log(JSON.stringify(['cdktf', 'constructs'].map((m) => [require.resolve(m), require.resolve(m, { paths: [lib] })])));`;
    const pairs: [string, string][] = JSON.parse(run(process.execPath, ['-e', probe], app).stdout);
    for (const [own, fromLibrary] of pairs) expect(fromLibrary).toBe(own);
  });

  test('the README usage example type-checks against the tarball\'s declarations', () => {
    expect(tscFiles).toContain(join(app, 'node_modules', 'redis-topologies', 'dist', 'lib', 'index.d.ts'));
  });

  test('the README usage example synthesizes a StatefulSet', () => {
    const stack = join(app, 'cdktf.out', 'stacks', 'redis', 'cdk.tf.json');
    expect(existsSync(stack)).toBe(true);
    const json = JSON.parse(readFileSync(stack, 'utf8'));
    expect(Object.keys(json.resource?.kubernetes_stateful_set_v1 ?? {}).length).toBeGreaterThan(0);
  });

  test(`an app on cdktf ${OLD_CDKTF} is refused at install, not given a second cdktf`, () => {
    const oldApp = scratchApp(join(tmp, 'app-cdktf-0.20'), { cdktf: OLD_CDKTF, constructs: locked('constructs') });
    const { stdout, stderr } = run('npm', INSTALL, oldApp, { expectFailure: true });
    expect(stderr + stdout).toContain('ERESOLVE');
    expect(stderr + stdout).toContain(`Found: cdktf@${OLD_CDKTF}`);
    expect(stderr + stdout).toMatch(/peer cdktf@"\^0\.21\.0"/);
    expect(stderr + stdout).toContain('redis-topologies');
    expect(existsSync(join(oldApp, 'node_modules', 'redis-topologies'))).toBe(false);
  }, 60_000);
});
