/**
 * `npm run gen:descriptor`: regenerates src/xds/envoy-descriptor.json from the `.proto` files
 * @grpc/grpc-js-xds ships (after upgrading it, or after changing DESCRIPTOR_FILES).
 */
import { writeFileSync } from 'node:fs';
import { buildDescriptor, DESCRIPTOR_URL, formatDescriptor } from '../src/xds/proto-descriptor.ts';

const descriptor = buildDescriptor();
const text = formatDescriptor(descriptor);
writeFileSync(DESCRIPTOR_URL, text);
console.log(`${DESCRIPTOR_URL.pathname}: ${descriptor.files.length} files, ${(text.length / 1024).toFixed(0)} KiB`);
