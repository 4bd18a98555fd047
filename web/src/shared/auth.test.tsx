// @vitest-environment node
import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import { codeChallenge } from './auth';

test('the PKCE challenge is the base64url SHA-256 of the verifier, unpadded (RFC 7636 S256)', async () => {
  const verifier = 'dBjftJeZ4CVP-mJ92JrEJuLUmUQOYMGFahjVQmNVh7E';
  const expected = createHash('sha256').update(verifier).digest('base64url');
  expect(await codeChallenge(verifier)).toBe(expected);
  expect(expected).not.toContain('=');
});
