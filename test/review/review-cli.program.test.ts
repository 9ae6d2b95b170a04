/**
 * The review command as a user runs it (a separate node process: the SVG comes from Graphviz
 * compiled to WebAssembly, an ES module jest's module system does not load), over the plan of a
 * SentinelRedis with a portal and backups.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AccessEgress, Backups, DataStorage, EncryptedStorageClass, HaproxyPortal, ObjectStorage, SentinelRedis, StorageCredentials, StorageEncryption } from '../../lib';
import { synth } from '../helpers';

const root = join(__dirname, '..', '..');

test('review --out --svg writes the Markdown and an SVG of the diagram, offline', () => {
  const plan = synth((stack) => {
    const sc = new EncryptedStorageClass(stack, 'Sc', { encryption: StorageEncryption.awsEbs() });
    const redis = new SentinelRedis(stack, 'Cache', {
      namespace: 'data', storage: DataStorage.encrypted(sc, '10Gi'),
      backup: Backups.toObjectStorage({ storage: ObjectStorage.s3({ bucket: 'backups', credentials: StorageCredentials.fromSecret('store') }), egress: [AccessEgress.toCidr('10.0.0.0/8', [443])] }),
    });
    new HaproxyPortal(stack, 'Portal', { backend: redis });
  }).json;
  const dir = mkdtempSync(join(tmpdir(), 'rt-review-cli-'));
  try {
    mkdirSync(join(dir, 'out', 'stacks', 'data'), { recursive: true });
    writeFileSync(join(dir, 'out', 'stacks', 'data', 'cdk.tf.json'), JSON.stringify(plan));
    execFileSync(process.execPath, ['-r', join(root, 'scripts', 'swc-register.js'), join(root, 'lib', 'review', 'cli.ts'), 'review', join(dir, 'out'), '--out', join(dir, 'review'), '--svg'], { cwd: root, timeout: 60_000 });
    // Graphviz writes '-' as &#45; in text.
    const svg = readFileSync(join(dir, 'review', 'data.svg'), 'utf8').replace(/&#45;/g, '-');
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg [\s\S]*<\/svg>\s*$/);
    for (const label of ['StatefulSet cache', 'StatefulSet cache-sentinel', 'Deployment cache-portal', 'CronJob cache-backup']) expect(svg).toContain(label);
    expect(readFileSync(join(dir, 'review', 'data.md'), 'utf8')).toContain('```mermaid\nflowchart LR');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
