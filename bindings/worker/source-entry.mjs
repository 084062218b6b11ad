// Worker entry when gencore runs from its TypeScript sources (tests, examples via tsx): register the
// TypeScript loader in this thread, then load the real worker. The published bundle never uses it.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
