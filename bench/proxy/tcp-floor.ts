/**
 * The floor under any Node proxy: a TCP relay that copies bytes both ways, one upstream connection per
 * downstream one, with no HTTP parsing at all. Per request it costs what every proxy on Node pays at
 * least (a read and a write on each side, through Node's stream machinery), so `ab.ts --tcp-floor`
 * shows how much of a sidecar's CPU and memory is left to win. argv: upstream port, listen port; sends
 * `up` over IPC once listening.
 */
import net from 'node:net';

if (process.argv[2] === '--warm') process.exit(0); // ab.ts: fills Node's compile cache
const [upstreamPort, listenPort] = [Number(process.argv[2]), Number(process.argv[3])];

net.createServer((down) => {
  const up = net.connect(upstreamPort, '127.0.0.1');
  down.on('data', (b) => up.write(b));
  up.on('data', (b) => down.write(b));
  down.on('close', () => up.destroy());
  up.on('close', () => down.destroy());
  down.on('error', () => up.destroy());
  up.on('error', () => down.destroy());
}).listen(listenPort, '127.0.0.1', () => process.send?.('up'));
process.on('disconnect', () => process.exit(0));
