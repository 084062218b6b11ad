/** Chromium and both static servers for one `describe` block of the browser tests. */
import { afterAll, beforeAll } from 'vitest';
import { launch, startServers, type BrowserSession } from './harness.js';

export interface BrowserFixture {
  session: BrowserSession;
  servers: Awaited<ReturnType<typeof startServers>>;
}

/** Start the servers and Chromium before the block's tests and close both after them. */
export function useBrowser(): BrowserFixture {
  const fixture = {} as BrowserFixture;
  beforeAll(async () => {
    fixture.servers = await startServers();
    fixture.session = await launch();
  });
  afterAll(async () => {
    await fixture.session?.close();
    await fixture.servers?.close();
  });
  return fixture;
}
