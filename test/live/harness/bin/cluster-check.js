#!/usr/bin/env node
/*
 * cluster-check.js <file>: reads {nodes, password, prefix, seqs} from the JSON file and prints, as
 * JSON, the sequence numbers whose key <prefix>:<seq> does not hold <seq>, read through ioredis's
 * Cluster client (pipelined per slot owner). Exits 1 on a connection failure.
 */
'use strict';

const fs = require('fs');
const Redis = require('ioredis');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const cluster = new Redis.Cluster(cfg.nodes, { redisOptions: { password: cfg.password, connectTimeout: 2000 }, slotsRefreshTimeout: 2000 });
cluster.on('error', () => undefined);
const timer = setTimeout(() => { process.stderr.write('cluster-check: timed out\n'); process.exit(1); }, 50000);

(async () => {
  const missing = [];
  for (let at = 0; at < cfg.seqs.length; at += 500) {
    const batch = cfg.seqs.slice(at, at + 500);
    const values = await Promise.all(batch.map((s) => cluster.get(`${cfg.prefix}:${s}`)));
    batch.forEach((s, k) => { if (values[k] !== String(s)) missing.push(s); });
  }
  process.stdout.write(JSON.stringify(missing));
  clearTimeout(timer);
  cluster.disconnect();
})().catch((e) => { process.stderr.write(`cluster-check: ${e.message}\n`); process.exit(1); });
