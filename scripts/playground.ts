// `npm run playground`: serve the browser playground (examples/web/) on localhost with COOP/COEP, so the
// page is cross-origin isolated and the worker pool shares one wasm memory.
//   npm run playground -- --port 9000       pick the port (default 8787, or a free one if taken)
//   npm run playground -- --no-isolation    omit COOP/COEP (the pool then transfers buffers)
import { startServer } from '../tests/browser/server.js';

const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : Number(process.env.PORT ?? 8787);
const isolate = !args.includes('--no-isolation');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`playground: --port must be an integer in [0, 65535], got ${args[portArg + 1] ?? process.env.PORT}`);
  process.exit(2);
}

let server;
try {
  server = await startServer({ port, isolate });
} catch (err) {
  if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
  console.log(`playground: port ${port} is taken, using a free one`);
  server = await startServer({ port: 0, isolate });
}
console.log(`gencore playground: ${server.url}examples/web/`);
console.log(isolate ? '(COOP/COEP sent: cross-origin isolated, shared wasm memory)' : '(no COOP/COEP: the pool transfers buffers)');
console.log('Ctrl-C to stop.');
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
