import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';

/** Asserts an RFC 9457 problem answer with this status and a detail matching the pattern; returns its body. */
export function expectProblem(response: LightMyRequestResponse, status: number, detail: RegExp) {
  assert.equal(response.statusCode, status, response.body);
  assert.match(response.headers['content-type'] as string, /^application\/problem\+json/);
  const body = response.json();
  assert.equal(body.status, status);
  assert.match(body.detail, detail);
  return body;
}
