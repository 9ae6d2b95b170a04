/**
 * The Kvrocks stand-in of the flash tier's live tests (test/live/harness/bin/standin: `kvrocks`, a
 * redis-server behind kvrocks-standin.js), copied where the containers' user (uid 999) may run it:
 * the checkout may sit in a directory only root can enter (a clean clone under mktemp -d is mode 700).
 */
import * as fs from 'fs';
import * as path from 'path';
import { harnessRoot } from './harness/pod';

export function standinDir(): string {
  const dir = path.join(harnessRoot(), 'standin');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  for (const f of ['kvrocks', 'kvrocks-standin.js']) {
    fs.copyFileSync(path.join(__dirname, 'harness', 'bin', 'standin', f), path.join(dir, f));
    fs.chmodSync(path.join(dir, f), 0o755);
  }
  return dir;
}

/** The data containers' PATH with the stand-in first. */
export const standinPath = (): string => `${standinDir()}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
