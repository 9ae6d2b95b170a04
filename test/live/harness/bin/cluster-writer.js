#!/usr/bin/env node
/*
 * cluster-writer.js: writer.js's bounded write loop through ioredis's Cluster client (it follows
 * MOVED and ASK and refreshes the slot map), run inside a client pod's network namespace:
 *
 *   ip netns exec <ns> node test/live/harness/bin/cluster-writer.js '<json config>'
 *
 * Config: { mode: 'cluster', nodes: [{host, port}], password?, keyPrefix, maxWrites, maxSeconds,
 *           intervalMs? (default 10), retryMs? (default 100) }
 * Events (one JSON line each), as writer.js: ack {seq, t, addr: 'cluster'}, err {seq, t, stage, msg},
 * done {acked, attempts, reason}. A write that errored or timed out may or may not be applied.
 */
'use strict';

const Redis = require('ioredis');

function fail(msg) {
  process.stderr.write(`cluster-writer: ${msg}\n`);
  process.exit(2);
}

let cfg;
try {
  cfg = JSON.parse(process.argv[2]);
} catch (e) {
  fail(`config must be JSON as the first argument: ${e.message}`);
}
if (!Number.isInteger(cfg.maxWrites) || cfg.maxWrites <= 0 || cfg.maxWrites > 10000000) fail('maxWrites (1..10000000) is required');
if (!(typeof cfg.maxSeconds === 'number' && cfg.maxSeconds > 0 && cfg.maxSeconds <= 3600)) fail('maxSeconds (0..3600] is required');
if (typeof cfg.keyPrefix !== 'string' || cfg.keyPrefix === '') fail('keyPrefix is required');
if (!Array.isArray(cfg.nodes) || cfg.nodes.length === 0) fail('cluster mode needs nodes');
const intervalMs = cfg.intervalMs === undefined ? 10 : cfg.intervalMs;
const retryMs = cfg.retryMs === undefined ? 100 : cfg.retryMs;
const deadline = Date.now() + cfg.maxSeconds * 1000;
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const cluster = new Redis.Cluster(cfg.nodes, {
  redisOptions: { password: cfg.password, connectTimeout: 1000, commandTimeout: 1000, maxRetriesPerRequest: 0 },
  clusterRetryStrategy: () => 200,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  slotsRefreshTimeout: 1000,
  slotsRefreshInterval: 2000,
  enableOfflineQueue: true,
});
cluster.on('error', () => undefined);

const acked = [];
let attempts = 0;
let stopping = false;
process.on('SIGTERM', () => { stopping = true; });

(async () => {
  let reason = 'maxWrites';
  for (let seq = 1; seq <= cfg.maxWrites; seq++) {
    if (stopping) { reason = 'SIGTERM'; break; }
    if (Date.now() >= deadline) { reason = 'maxSeconds'; break; }
    attempts++;
    try {
      const r = await Promise.race([cluster.set(`${cfg.keyPrefix}:${seq}`, String(seq)), sleep(1500).then(() => { throw new Error('client timeout'); })]);
      if (r !== 'OK') throw new Error(`reply ${r}`);
      acked.push(seq);
      out({ ev: 'ack', seq, t: Date.now(), addr: 'cluster' });
      if (intervalMs > 0) await sleep(intervalMs);
    } catch (e) {
      out({ ev: 'err', seq, t: Date.now(), stage: 'write', msg: String(e && e.message || e) });
      await sleep(retryMs);
    }
  }
  out({ ev: 'done', acked, attempts, reason });
  cluster.disconnect();
  process.exit(0);
})();
