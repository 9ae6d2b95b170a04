#!/usr/bin/env node
/*
 * s3-server.js: an S3-protocol object store (s3rver, objects kept as files under `directory`),
 * run inside a pod's network namespace:
 *
 *   ip netns exec <ns> node test/live/harness/bin/s3-server.js '<json config>'
 *
 * Config: { directory, address, port, buckets: [name], accessKeyId, secretAccessKey, verbose? }
 * Prints one JSON line {ev: 'ready', address, port} once it listens (buckets created); with
 * verbose, s3rver then logs one line per request ("PUT /bucket/key 200 ..."). SIGTERM/SIGINT
 * close the listener and exit 0 (bounded: exit 1 after 3 s).
 *
 * s3rver knows one hard-coded account; the access key id is added to it, so a client with any
 * other id is refused (InvalidAccessKeyId). It does NOT verify V4 signatures: a wrong secret
 * with a known id is accepted.
 */
'use strict';

const fs = require('fs');
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

function fail(msg) {
  process.stderr.write(`s3-server: ${msg}\n`);
  process.exit(2);
}

let cfg;
try {
  cfg = JSON.parse(process.argv[2]);
} catch (e) {
  fail(`config must be JSON as the first argument: ${e.message}`);
}
if (typeof cfg.directory !== 'string' || !fs.statSync(cfg.directory, { throwIfNoEntry: false })?.isDirectory()) fail('directory must be an existing directory');
if (typeof cfg.address !== 'string' || cfg.address === '') fail('address is required');
if (!Number.isInteger(cfg.port) || cfg.port < 1 || cfg.port > 65535) fail('port (1..65535) is required');
if (!Array.isArray(cfg.buckets) || cfg.buckets.some((b) => !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b))) fail('buckets must be valid bucket names');
if (typeof cfg.accessKeyId !== 'string' || typeof cfg.secretAccessKey !== 'string') fail('accessKeyId and secretAccessKey are required');

AWSAccount.DUMMY_ACCOUNT.createKeyPair(cfg.accessKeyId, cfg.secretAccessKey);

const server = new S3rver({
  address: cfg.address,
  port: cfg.port,
  directory: cfg.directory,
  silent: !cfg.verbose,
  resetOnClose: false,
  // rclone signs V4, which s3rver does not verify anyway; V2 mismatches are refused.
  allowMismatchedSignatures: false,
  // The default (true) takes any Host that is not an IP or localhost for a virtual-hosted bucket
  // name: a path-style request to s3.<ns>.svc.cluster.local would address a bucket named after the host.
  vhostBuckets: false,
  configureBuckets: cfg.buckets.map((name) => ({ name })),
});

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(1), 3000).unref();
  server.close().then(() => process.exit(0), () => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.run().then(
  (addr) => process.stdout.write(`${JSON.stringify({ ev: 'ready', address: addr.address, port: addr.port })}\n`),
  (e) => fail(`could not start: ${e && e.message}`),
);
