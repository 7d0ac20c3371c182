/**
 * Core v1 Namespace. In local mode namespaces exist implicitly when config names them; a Namespace
 * document carries labels (e.g. `istio-injection`) that analyzers and (later) injection read.
 */
import * as z from 'zod';
import { obj } from '../../schema/object.ts';
import { str } from '../../schema/primitives.ts';
import { defineKind } from '../kind.ts';

export const NamespaceSpec = obj({ finalizers: z.array(str()).optional() });
export type NamespaceSpec = z.output<typeof NamespaceSpec>;

export const Namespace = defineKind({
  kind: 'Namespace',
  group: '',
  versions: ['v1'],
  plural: 'namespaces',
  shortNames: ['ns'],
  namespaced: false,
  nameRule: 'dns1123-label',
  specRequired: false,
  spec: NamespaceSpec,
});
