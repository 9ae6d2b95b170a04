#!/usr/bin/env node
/*
 * dns.js: the emulated cluster DNS of a PodNetwork. A UDP DNS server, Node built-ins only, run in
 * the network's hub namespace:
 *
 *   ip netns exec <hub> node test/live/harness/bin/dns.js <listen address> <hosts file>
 *
 * It answers A queries from the hosts file (re-read on every query, so a readdressed pod is
 * seen at once) with TTL 1, answers AAAA for a known name with no records (NODATA), and NXDOMAIN
 * for anything else. Programs that resolve through DNS rather than /etc/hosts (HAProxy's
 * run-time resolvers) see the same names as glibc does. Exits when its stdin closes (the test
 * process died) or on SIGTERM.
 *
 * Failure injection, one command a line on stdin, each acknowledged with one JSON line on stdout
 * ({"ok":"<command>", ...counters}):
 *   fail <mode> <ms>   for the next <ms> milliseconds (1..600000) answer every query as <mode>:
 *                      drop (no answer at all: a DNS timeout for the asker), servfail, refused,
 *                      nxdomain; then back to normal by itself
 *   normal             back to normal now
 *   stats              just the counters
 * Counters: queries (received), dropped, failed (answered with an injected error), mode.
 */
'use strict';

const dgram = require('dgram');
const fs = require('fs');

const [listen, hostsFile] = process.argv.slice(2);
if (!listen || !hostsFile) {
  process.stderr.write('usage: dns.js <listen address> <hosts file>\n');
  process.exit(2);
}

function lookup(name) {
  const wanted = name.toLowerCase().replace(/\.$/, '');
  for (const line of fs.readFileSync(hostsFile, 'utf8').split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length < 2 || !/^\d+\.\d+\.\d+\.\d+$/.test(fields[0])) continue;
    if (fields.slice(1).some((n) => n.toLowerCase() === wanted)) return fields[0];
  }
  return undefined;
}

/** The question's name and the offset just past QTYPE/QCLASS, or undefined if malformed. */
function parseQuestion(msg) {
  const labels = [];
  let at = 12;
  while (at < msg.length) {
    const len = msg[at];
    if (len === 0) {
      at += 1;
      break;
    }
    if (len > 63 || at + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  if (at + 4 > msg.length) return undefined;
  return { name: labels.join('.'), type: msg.readUInt16BE(at), qclass: msg.readUInt16BE(at + 2), end: at + 4 };
}

function reply(query, q, rcode, address) {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // id
  const rd = query[2] & 0x01;
  header[2] = 0x80 | 0x04 | rd; // QR, AA, RD copied
  header[3] = 0x80 | rcode; // RA, rcode
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(address ? 1 : 0, 6); // ANCOUNT
  const question = query.subarray(12, q.end);
  if (!address) return Buffer.concat([header, question]);
  const answer = Buffer.alloc(16);
  answer.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  answer.writeUInt16BE(1, 2); // A
  answer.writeUInt16BE(1, 4); // IN
  answer.writeUInt32BE(1, 6); // TTL 1 s
  answer.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => (answer[12 + i] = Number(octet)));
  return Buffer.concat([header, question, answer]);
}

const FAIL_RCODES = { servfail: 2, nxdomain: 3, refused: 5 };
const counters = { queries: 0, dropped: 0, failed: 0 };
/** The injected failure: { mode, until } (epoch ms), or undefined. */
let failure;

function currentFailure() {
  if (failure && Date.now() >= failure.until) failure = undefined;
  return failure;
}

function status(command) {
  const f = currentFailure();
  return JSON.stringify({ ok: command, ...counters, mode: f ? f.mode : 'normal', untilMs: f ? f.until - Date.now() : 0 });
}

function control(line) {
  const [cmd, mode, ms] = line.trim().split(/\s+/);
  if (cmd === 'fail' && (mode === 'drop' || mode in FAIL_RCODES) && /^\d+$/.test(ms || '') && Number(ms) >= 1 && Number(ms) <= 600000) {
    failure = { mode, until: Date.now() + Number(ms) };
  } else if (cmd === 'normal') {
    failure = undefined;
  } else if (cmd !== 'stats') {
    process.stdout.write(`${JSON.stringify({ error: `unknown command: ${line.trim()}` })}\n`);
    return;
  }
  process.stdout.write(`${status(cmd)}\n`);
}

const socket = dgram.createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  if (msg.length < 12 || (msg[2] & 0x80) !== 0 || msg.readUInt16BE(4) !== 1) return;
  const q = parseQuestion(msg);
  if (!q) return;
  counters.queries++;
  const f = currentFailure();
  if (f && f.mode === 'drop') {
    counters.dropped++;
    return;
  }
  if (f) {
    counters.failed++;
    socket.send(reply(msg, q, FAIL_RCODES[f.mode], undefined), rinfo.port, rinfo.address);
    return;
  }
  let out;
  try {
    const address = lookup(q.name);
    if (q.type === 1 && q.qclass === 1 && address) out = reply(msg, q, 0, address);
    else if (address) out = reply(msg, q, 0, undefined); // NODATA
    else out = reply(msg, q, 3, undefined); // NXDOMAIN
  } catch {
    out = reply(msg, q, 2, undefined); // SERVFAIL
  }
  socket.send(out, rinfo.port, rinfo.address);
});
socket.on('error', (e) => {
  process.stderr.write(`dns: ${e.message}\n`);
  process.exit(1);
});
socket.bind(53, listen, () => process.stdout.write('ready\n'));
let pending = '';
process.stdin.on('data', (d) => {
  pending += d.toString();
  let at;
  while ((at = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, at);
    pending = pending.slice(at + 1);
    if (line.trim() !== '') control(line);
  }
});
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
