import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { makeCa, makeCert } from './certs.ts';

test('makeCert issues an ECDSA P-256 certificate with the SANs, trusted through the CA', async (t) => {
  const ca = makeCa();
  assert.equal(makeCa(), ca, 'cached per process');
  const cert = makeCert(ca, { commonName: 'api.example.com', dnsNames: ['api.example.com', '*.api.example.com'], ipAddresses: ['127.0.0.1'] });
  assert.equal(makeCert(ca, { commonName: 'api.example.com', dnsNames: ['api.example.com', '*.api.example.com'], ipAddresses: ['127.0.0.1'] }), cert);
  const x = new X509Certificate(cert.certPem);
  assert.match(x.subjectAltName ?? '', /DNS:api\.example\.com/);
  assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));

  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => s.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const data = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'x.api.example.com', ca: cert.caPem }, () => {});
    let got = '';
    s.on('data', (d) => (got += d)).on('end', () => resolve(got)).on('error', reject);
  });
  assert.equal(data, 'ok');
});
