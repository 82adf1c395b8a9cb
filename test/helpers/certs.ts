import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/** PEM files made at test time by Debian's openssl: a CA, a server certificate it signed, a client one. */
export interface TestCertificates {
  dir: string;
  /** The certificate authority that signed both certificates below. */
  caCert: string;
  caKey: string;
  /** For 127.0.0.1 and localhost (IP and DNS SANs), serverAuth. */
  serverCert: string;
  serverKey: string;
  /** CN=outboxctl-client, clientAuth (mutual TLS). */
  clientCert: string;
  clientKey: string;
  /** A second CA that signed nothing here: "an unknown certificate authority" to a client trusting it. */
  otherCaCert: string;
}

const openssl = (cwd: string, args: string[]) => execa('openssl', args, { cwd });

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert]);
  return { cert, key };
}

async function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, extensions: string): Promise<{ cert: string; key: string }> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.pem`);
  const ext = path.join(dir, `${name}.ext`);
  await execa('sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', extensions, ext]);
  // PKCS#8 keys (BEGIN PRIVATE KEY): what Kafka's PEM key store, PostgreSQL and nginx all read.
  await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', `/CN=${name}`, '-keyout', key, '-out', csr]);
  await openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', ext, '-out', cert]);
  return { cert, key };
}

/** Generates everything in `dir` (created): a few hundred milliseconds. */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  await mkdir(dir, { recursive: true });
  const ca = await makeCa(dir, 'outboxctl-test-ca');
  const other = await makeCa(dir, 'unknown-ca');
  const server = await makeLeaf(
    dir,
    'server',
    ca,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment',
  );
  const client = await makeLeaf(dir, 'outboxctl-client', ca, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment');
  return {
    dir,
    caCert: ca.cert,
    caKey: ca.key,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCaCert: other.cert,
  };
}
