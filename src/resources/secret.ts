/**
 * Secret (v1): TLS material for HTTPS listeners. `data` must be base64, `stringData` is plain text;
 * a `kubernetes.io/tls` Secret must carry `tls.crt` and `tls.key`.
 */
import { z } from 'zod';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

export const secretBody = z
  .object({
    type: z.string().optional(),
    data: z.record(z.string(), z.string()).optional(),
    stringData: z.record(z.string(), z.string()).optional(),
    immutable: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    for (const [key, value] of Object.entries(s.data ?? {})) {
      if (!BASE64.test(value.replace(/\s+/g, ''))) {
        ctx.addIssue({ code: 'custom', path: ['data', key], message: 'must be base64-encoded (use stringData for plain text)' });
      }
    }
    if (s.type === TLS_SECRET_TYPE) {
      for (const key of ['tls.crt', 'tls.key']) {
        if (s.data?.[key] === undefined && s.stringData?.[key] === undefined) {
          ctx.addIssue({ code: 'custom', path: ['data'], message: `a ${TLS_SECRET_TYPE} Secret needs "${key}" in data or stringData` });
        }
      }
    }
  });
export type SecretBody = z.infer<typeof secretBody>;

/** A Secret value as text: stringData wins over data (as the API server merges them). */
export function secretValue(secret: SecretBody, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const encoded = secret.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded.replace(/\s+/g, ''), 'base64').toString('utf8');
}
