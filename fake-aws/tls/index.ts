import { readFileSync } from 'node:fs';

const read = (name: string): string => readFileSync(new URL(name, import.meta.url), 'utf8');

/** The test PKI in this folder (see README.md). */
export const testTls = {
  caPath: new URL('ca.pem', import.meta.url).pathname,
  localhostCert: read('localhost.pem'),
  localhostKey: read('localhost-key.pem'),
  snsSigningCert: read('sns-signing-cert.pem'),
  snsSigningKey: read('sns-signing-key.pem'),
  forgerCert: read('forger-cert.pem'),
  forgerKey: read('forger-key.pem'),
};
