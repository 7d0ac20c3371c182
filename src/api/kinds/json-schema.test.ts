/**
 * The one-schema-source promise: every kind's zod schema also yields a JSON Schema (what the Kubernetes
 * issue turns into CRD `openAPIV3Schema`), closed to unknown fields like the validator is.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { KINDS } from '../index.ts';

type Schema = { type?: string; properties?: Record<string, Schema>; additionalProperties?: unknown; items?: Schema };

function openObjects(s: Schema, path: string, out: string[]): void {
  if (s.type === 'object' && s.properties !== undefined && s.additionalProperties !== false) out.push(path);
  for (const [k, v] of Object.entries(s.properties ?? {})) openObjects(v, `${path}.${k}`, out);
  if (s.items !== undefined) openObjects(s.items, `${path}[]`, out);
}

describe('JSON Schema from the kind schemas', () => {
  for (const kind of KINDS) {
    it(`${kind.kind}: converts, with every object closed to unknown fields`, () => {
      const js = z.toJSONSchema(kind.spec, { unrepresentable: 'any', io: 'input' }) as Schema;
      assert.equal(js.type, 'object');
      assert.ok(Object.keys(js.properties ?? {}).length > 0);
      const open: string[] = [];
      openObjects(js, 'spec', open);
      assert.deepEqual(open, []);
    });
  }
  it('keeps field names and enums', () => {
    const vs = z.toJSONSchema(KINDS.find((k) => k.kind === 'DestinationRule')!.spec, { unrepresentable: 'any', io: 'input' });
    const text = JSON.stringify(vs);
    for (const word of ['trafficPolicy', 'outlierDetection', 'consecutive5xxErrors', 'ISTIO_MUTUAL', 'LEAST_REQUEST']) assert.ok(text.includes(word), word);
  });
});
