/**
 * Test certificates made with openssl, standing in for what Terraform's tls provider,
 * cert-manager or a platform's PKI would put into a Secret.
 */
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { harnessRoot } from './harness/pod';

export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * A CA and a server certificate (ECDSA P-256) for dnsNames (wildcards allowed), made with openssl.
 * `clientAuth`: the certificate may also authenticate its holder as a client (a Redis Cluster bus is
 * mutual TLS: every member presents its certificate to the peers it connects to).
 */
export function makeCertificates(dnsNames: string[], opts: { clientAuth?: boolean } = {}): TestCertificates {
  const dir = fs.mkdtempSync(path.join(harnessRoot(), 'certs-'));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'),
    '-days', '2', '-subj', '/CN=live test portal CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('tls.key'), '-out', f('tls.csr'), '-subj', `/CN=${dnsNames[0]}`);
  fs.writeFileSync(f('ext.cnf'), `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth${opts.clientAuth ? ',clientAuth' : ''}\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  ssl('x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('tls.crt'), '-days', '2', '-extfile', f('ext.cnf'));
  fs.chmodSync(dir, 0o755);
  for (const n of ['ca.crt', 'tls.crt']) fs.chmodSync(f(n), 0o644);
  return {
    dir, caFile: f('ca.crt'), certFile: f('tls.crt'), keyFile: f('tls.key'),
    ca: fs.readFileSync(f('ca.crt'), 'utf8'), cert: fs.readFileSync(f('tls.crt'), 'utf8'), key: fs.readFileSync(f('tls.key'), 'utf8'),
  };
}

