/** Fake data-plane events (what the proxy publishes), for testing observers without a proxy. */
import type { RequestRecord, UpstreamEvent } from '../../src/snapshot/index.ts';

export function requestRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    startTime: Date.parse('2025-01-01T00:00:00Z'),
    gateway: 'default/edge',
    listener: 'default/edge/http',
    route: 'HTTPRoute/default/catalog',
    rule: 'HTTPRoute/default/catalog/rule/0',
    backend: 'Service/default/catalog:8080',
    endpoint: '10.0.0.1:8080',
    method: 'GET',
    path: '/products',
    host: 'shop.example.com',
    protocol: 'HTTP/1.1',
    status: 200,
    durationMs: 12.3456,
    upstreamMs: 10.5,
    bytesIn: 10,
    bytesOut: 200,
    requestId: 'req-1',
    clientAddress: '192.0.2.7',
    attempts: 1,
    ...overrides,
  };
}

export function upstreamEvent(type: UpstreamEvent['type'], overrides: Partial<UpstreamEvent> = {}): UpstreamEvent {
  return { type, backend: 'Service/default/catalog:8080', endpoint: '10.0.0.1:8080', protocol: 'http1', ...overrides };
}
