/** `metadata` as Kubernetes defines it, with the name rule of the resource's kind. */
import * as z from 'zod';
import { check, obj } from './schema/object.ts';
import { labelMap, stringMap, str, uint64 } from './schema/primitives.ts';
import { dns1123LabelProblem, dns1123SubdomainProblem } from './schema/names.ts';
import type { NameRule } from './kinds/kind.ts';
import { showValue } from './errors.ts';

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function dns1035Problem(v: string): string | undefined {
  return v.length <= 63 && DNS1035.test(v) ? undefined
    : `must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter, at most 63 characters (got ${showValue(v)})`;
}

const NAME_RULES: Readonly<Record<NameRule, (v: string) => string | undefined>> = {
  'dns1123-subdomain': dns1123SubdomainProblem,
  'dns1123-label': dns1123LabelProblem,
  'dns1035-label': dns1035Problem,
};

function metadataSchema(rule: NameRule) {
  return obj({
    name: check(str(), NAME_RULES[rule]),
    namespace: check(str(), dns1123LabelProblem).optional(),
    labels: labelMap().optional(),
    annotations: stringMap().optional(),
    // Server-set fields: accepted so `kubectl get -o yaml` output validates unchanged.
    generateName: str().optional(),
    uid: str().optional(),
    resourceVersion: str().optional(),
    generation: uint64().optional(),
    creationTimestamp: z.union([str(), z.date(), z.null()]).optional(),
    deletionTimestamp: z.union([str(), z.date(), z.null()]).optional(),
    deletionGracePeriodSeconds: uint64().optional(),
    finalizers: z.array(str()).optional(),
    ownerReferences: z.array(z.record(z.string(), z.unknown())).optional(),
    managedFields: z.array(z.record(z.string(), z.unknown())).optional(),
    selfLink: str().optional(),
  });
}

const CACHE = new Map<NameRule, ReturnType<typeof metadataSchema>>();

export function metadataFor(rule: NameRule): ReturnType<typeof metadataSchema> {
  let s = CACHE.get(rule);
  if (s === undefined) {
    s = metadataSchema(rule);
    CACHE.set(rule, s);
  }
  return s;
}
