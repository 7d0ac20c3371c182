/**
 * `npm start`: the demo mesh, `weft demo` — control plane, bookinfo with its sidecars, and the ingress
 * gateway on http://localhost:8080/productpage. Arguments after `npm start --` go to `weft demo`
 * (e.g. `npm start -- --traffic`).
 */
import { main } from '../src/cli/main.ts';

process.exitCode = await main(['node', 'weft', 'demo', ...process.argv.slice(2)]);
