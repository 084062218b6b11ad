// The gencore playground: one worker pool for the page, one panel per capability. Every heavy call goes
// through `createPool()`, so the main thread only draws; the header's heartbeat and long-task readout show it.
import * as gencore from '../../dist/index.browser.js';
import { el } from './lib/ui.js';
import * as gemm from './panels/gemm.js';
import * as nystrom from './panels/nystrom.js';
import * as cities from './panels/cities.js';
import * as entropy from './panels/entropy.js';
import * as diffusion from './panels/diffusion.js';
import * as diffusionCities from './panels/diffusion-cities.js';
import * as repetition from './panels/repetition.js';
import * as onnx from './panels/onnx.js';

const PANELS = [gemm, nystrom, cities, entropy, diffusion, diffusionCities, repetition, onnx];

/** Longest main-thread task seen (PerformanceObserver 'longtask' reports tasks over 50 ms). */
const longTasks = [];
function watchLongTasks() {
  const out = document.getElementById('env-longtask');
  const show = () => {
    const worst = longTasks.reduce((m, t) => Math.max(m, t.duration), 0);
    out.textContent = longTasks.length ? `${longTasks.length} task(s) over 50 ms, longest ${worst.toFixed(0)} ms` : 'no task over 50 ms';
  };
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push({ start: entry.startTime, duration: entry.duration });
      show();
    }).observe({ type: 'longtask', buffered: false });
    show();
  } catch {
    out.textContent = 'longtask API unavailable';
  }
}

/** A dot sweeping across a strip once a second: it stutters the moment the main thread is blocked. */
function heartbeat() {
  const canvas = document.getElementById('heartbeat');
  const ctx = canvas.getContext('2d');
  const trail = [];
  const frame = (now) => {
    trail.push(now);
    while (trail.length > 40) trail.shift();
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < trail.length; i++) {
      const x = ((trail[i] / 1000) % 1) * (canvas.width - 8) + 4;
      ctx.fillStyle = `rgba(47, 111, 222, ${((i + 1) / trail.length) ** 2})`;
      ctx.fillRect(x - 2, 5, 4, 8);
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

async function main() {
  watchLongTasks();
  heartbeat();
  const pool = await gencore.createPool();
  const f = pool.features;
  document.getElementById('env-pool').textContent = `${pool.size} module worker${pool.size === 1 ? '' : 's'}`;
  document.getElementById('env-build').textContent = `${f.build} SIMD`;
  document.getElementById('env-coi').textContent = globalThis.crossOriginIsolated ? 'yes' : 'no';
  document.getElementById('env-memory').textContent = f.sharedMemory ? 'shared (pointers only)' : 'transferred buffers';
  const parent = document.getElementById('panels');
  const ctx = { gencore, pool };
  const mounted = {};
  for (const panel of PANELS) mounted[panel.id] = panel.mount(parent, ctx);
  // For the end-to-end tests and the curious: the pool, the panels and the long-task log.
  globalThis.gencorePlayground = { pool, panels: mounted, longTasks, ready: true };
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  console.error(err);
  document.getElementById('panels').append(el('p', { class: 'status', id: 'fatal' }, `gencore failed to start: ${err?.message ?? err}`));
  document.body.dataset.ready = 'error';
});
