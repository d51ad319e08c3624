/** @module test/support/assertions: what an answer of the Action Provider Interface must look like. */
import { expect } from 'vitest';
import type { ClientReply } from '../../src/testing/index.ts';

/** The standard ActionStatus keys (exactly these are sent: no `state`, no `request`). */
export const STATUS_KEYS = [
  'action_id',
  'status',
  'creator_id',
  'label',
  'monitor_by',
  'manage_by',
  'start_time',
  'completion_time',
  'release_after',
  'display_status',
  'details',
] as const;

/** ISO 8601 date-time with the explicit UTC offset Globus services write. */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$/;

/** A full ActionStatus document: every standard key, well-typed, times in ISO 8601 with +00:00. */
export function expectActionStatus(json: any): void {
  expect(Object.keys(json).sort()).toEqual([...STATUS_KEYS].sort());
  expect(json.action_id).toEqual(expect.any(String));
  expect(json.action_id).not.toBe('');
  expect(['ACTIVE', 'INACTIVE', 'SUCCEEDED', 'FAILED']).toContain(json.status);
  expect(json.creator_id).toMatch(/^urn:globus:auth:identity:/);
  expect(json.label === null || typeof json.label === 'string').toBe(true);
  expect(Array.isArray(json.monitor_by)).toBe(true);
  expect(Array.isArray(json.manage_by)).toBe(true);
  expect(json.start_time).toMatch(ISO_UTC);
  if (json.status === 'SUCCEEDED' || json.status === 'FAILED') expect(json.completion_time).toMatch(ISO_UTC);
  else expect(json.completion_time).toBeNull();
  expect(json.release_after).toMatch(/^P(?!$)/);
  expect(json.display_status).toEqual(expect.any(String));
  expect(json.details).toEqual(expect.any(Object));
  expect(Array.isArray(json.details)).toBe(false);
}

/** A successful run answer: `status`, JSON content type, and a full ActionStatus. */
export function expectAction(reply: ClientReply, status: 200 | 202): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/json');
  expectActionStatus(reply.body);
}

/**
 * An error answer: `status`, JSON content type, and a body of exactly `{code, description}`
 * with a string description (equal to, or matching, `description` when given).
 */
export function expectError(reply: ClientReply, status: number, code: string, description?: string | RegExp): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/json');
  expect(reply.body).toEqual({ code, description: expect.any(String) });
  if (typeof description === 'string') expect(reply.body.description).toBe(description);
  else if (description !== undefined) expect(reply.body.description).toMatch(description);
}

/** The `Field '...'` lines of a validation error description. */
export const fieldLines = (reply: ClientReply): string[] => String(reply.body?.description ?? '').split('; ');
