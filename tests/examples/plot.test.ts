import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { barChart, heatmap, linePlot, scatterPanels, writePng } from '../../examples/lib/plot.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface Decoded { width: number; height: number; data: Uint8Array }

function decode(png: Uint8Array): Decoded {
  const img = pngjs.PNG.sync.read(Buffer.from(png));
  return { width: img.width, height: img.height, data: new Uint8Array(img.data) };
}

/** Coordinates of all pixels for which `pred(r, g, b)` holds. */
function pixelsWhere(img: Decoded, pred: (r: number, g: number, b: number) => boolean): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 4;
      if (pred(img.data[i], img.data[i + 1], img.data[i + 2])) out.push([x, y]);
    }
  return out;
}

const isRed = (r: number, g: number, b: number) => r > 200 && g < 80 && b < 80;
const isGreen = (r: number, g: number, b: number) => g > 200 && r < 120 && b < 120;
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const minOf = (a: number[]) => a.reduce((m, v) => Math.min(m, v), Infinity);
const maxOf = (a: number[]) => a.reduce((m, v) => Math.max(m, v), -Infinity);

/** Number of runs of consecutive integers in a sorted set of columns. */
function runs(columns: number[]): number {
  const cols = [...new Set(columns)].sort((a, b) => a - b);
  let n = cols.length ? 1 : 0;
  for (let i = 1; i < cols.length; i++) if (cols[i] !== cols[i - 1] + 1) n++;
  return n;
}

describe('plot: PNG output', () => {
  it('every plot kind returns a PNG with the requested (or default) size', () => {
    const cases: Array<[Uint8Array, number, number]> = [
      [linePlot({ title: 't', series: [{ name: 'a', x: [0, 1], y: [0, 1] }] }), 800, 500],
      [linePlot({ title: 't', series: [], width: 321, height: 207 }), 321, 207],
      [heatmap({ title: 'h', data: [1, 2, 3, 4, 5, 6], rows: 2, cols: 3, width: 400, height: 300 }), 400, 300],
      [barChart({ title: 'b', labels: ['x', 'y'], values: [1, 2], width: 300, height: 200 }), 300, 200],
    ];
    for (const [png, w, h] of cases) {
      expect([...png.subarray(0, 8)]).toEqual(SIGNATURE);
      const img = decode(png);
      expect([img.width, img.height]).toEqual([w, h]);
    }
    const sp = decode(scatterPanels({ title: 's', cols: 2, panels: [1, 2, 3].map((k) => ({ title: `p${k}`, x: [k], y: [k] })), panelSize: 150 }));
    // Two columns and two rows of 150-pixel panels, plus title and margins.
    expect(sp.width).toBeGreaterThanOrEqual(300);
    expect(sp.width).toBeLessThan(300 + 100);
    expect(sp.height).toBeGreaterThanOrEqual(300);
    expect(sp.height).toBeLessThan(300 + 100);
  });

  it('the background is white', () => {
    const img = decode(linePlot({ title: '', series: [] }));
    const i = (5 * img.width + 5) * 4;
    expect([...img.data.subarray(i, i + 4)]).toEqual([255, 255, 255, 255]);
  });
});

describe('plot: linePlot', () => {
  const redLineRow = (level: number) => {
    const img = decode(linePlot({ title: 'level', series: [{ name: '', x: [0, 1], y: [level, level], color: '#ff0000' }], yMin: 0, yMax: 1 }));
    const red = pixelsWhere(img, isRed);
    return { img, red, row: mean(red.map((p) => p[1])) };
  };

  // Series are unnamed where pixels are counted, so that no legend swatch adds coloured pixels.
  it('a horizontal series is drawn as a thin red band at a row linear in y', () => {
    const lo = redLineRow(0.25), mid = redLineRow(0.5), hi = redLineRow(0.75);
    for (const r of [lo, mid, hi]) {
      expect(r.red.length).toBeGreaterThan(0);
      const rows = new Set(r.red.map((p) => p[1]));
      expect(rows.size).toBeLessThanOrEqual(3); // 2 px line
      const xs = r.red.map((p) => p[0]);
      expect(maxOf(xs) - minOf(xs)).toBeGreaterThan(0.6 * r.img.width);
    }
    expect(hi.row).toBeLessThan(mid.row); // larger y is higher up
    expect(mid.row).toBeLessThan(lo.row);
    expect(Math.abs(mid.row - (lo.row + hi.row) / 2)).toBeLessThanOrEqual(1);
  });

  it('x maps left to right: a point at larger x lies further right', () => {
    const at = (x: number) => {
      const img = decode(linePlot({ title: '', series: [{ name: '', x: [0, x, 10], y: [NaN, 1, NaN], color: '#ff0000', points: true }] }));
      return mean(pixelsWhere(img, isRed).map((p) => p[0]));
    };
    const a = at(2), b = at(5), c = at(8);
    expect(a).toBeLessThan(b);
    expect(Math.abs(b - (a + c) / 2)).toBeLessThanOrEqual(1.5);
  });

  it('NaN and Infinity points are skipped and break the line', () => {
    const x = Array.from({ length: 11 }, (_, i) => i);
    const y = x.map((i) => (i === 5 ? NaN : i === 8 ? Infinity : 0.5));
    const img = decode(linePlot({ title: '', series: [{ name: '', x, y, color: '#ff0000' }], yMin: 0, yMax: 1 }));
    const red = pixelsWhere(img, isRed);
    // Segments 0–4, 6–7 and 9–10 remain: three separate runs of columns.
    expect(runs(red.map((p) => p[0]))).toBe(3);
  });

  it('a log axis skips non-positive values without throwing', () => {
    const series = [{ name: '', x: [1, 2, 3, 4, 5], y: [-1, 0, 10, 100, -Infinity], color: '#ff0000', points: true }];
    const img = decode(linePlot({ title: 'log', series, logY: true }));
    const red = pixelsWhere(img, isRed);
    expect(runs(red.map((p) => p[0]))).toBe(2); // only the markers at y = 10 and 100
    const onlyBad = linePlot({ title: 'log', series: [{ name: '', x: [0, -1, 2], y: [-3, 0, -1], color: '#ff0000' }], logX: true, logY: true });
    expect(pixelsWhere(decode(onlyBad), isRed)).toHaveLength(0);
  });

  it('empty series, a constant series and a single point do not throw', () => {
    expect(() => linePlot({ title: 'e', series: [{ name: 'none', x: [], y: [] }] })).not.toThrow();
    expect(() => linePlot({ title: 'c', series: [{ name: 'flat', x: [1, 2, 3], y: [7, 7, 7] }], logX: true, logY: true })).not.toThrow();
    const one = decode(linePlot({ title: '1', series: [{ name: '', x: [3], y: [4], color: '#ff0000' }] }));
    expect(pixelsWhere(one, isRed).length).toBeGreaterThan(0);
  });
});

describe('plot: scatterPanels, heatmap, barChart', () => {
  it('scatterPanels puts each panel in its own grid cell', () => {
    const img = decode(scatterPanels({
      title: 'two', cols: 2, range: [-1, 1, -1, 1],
      panels: [{ title: 'a', x: [0.5], y: [0.5], color: '#ff0000' }, { title: 'b', x: [-0.5], y: [-0.5], color: '#00ff00' }],
    }));
    const red = pixelsWhere(img, isRed), green = pixelsWhere(img, isGreen);
    expect(red.length).toBeGreaterThan(0);
    expect(green.length).toBeGreaterThan(0);
    expect(maxOf(red.map((p) => p[0]))).toBeLessThan(img.width / 2);
    expect(minOf(green.map((p) => p[0]))).toBeGreaterThan(img.width / 2);
    expect(mean(red.map((p) => p[1]))).toBeLessThan(mean(green.map((p) => p[1]))); // y = 0.5 above y = -0.5
  });

  it('heatmap puts the largest value (yellow) in the right cell and validates sizes', () => {
    const rows = 4, cols = 6, data = new Float64Array(rows * cols);
    data[0 * cols + 5] = 1; // top-right cell
    const img = decode(heatmap({ title: 'hot', data, rows, cols }));
    const isYellow = (r: number, g: number, b: number) => r > 230 && g > 210 && b < 80;
    const dark = pixelsWhere(img, (r, g, b) => r < 80 && g < 10 && b > 70 && b < 90); // viridis minimum
    const hot = pixelsWhere(img, isYellow);
    const darkXs = dark.map((p) => p[0]), darkYs = dark.map((p) => p[1]);
    const hotX = mean(hot.map((p) => p[0])), hotY = mean(hot.map((p) => p[1]));
    expect(hotX).toBeGreaterThan((minOf(darkXs) + maxOf(darkXs)) / 2);
    expect(hotY).toBeLessThan((minOf(darkYs) + maxOf(darkYs)) / 2);
    expect(() => heatmap({ title: 'bad', data: [1, 2, 3], rows: 2, cols: 2 })).toThrow(RangeError);
    expect(() => heatmap({ title: 'log', data: [0, -1, 1, 100], rows: 2, cols: 2, logScale: true })).not.toThrow();
  });

  it('barChart bar areas are proportional to the values', () => {
    const img = decode(barChart({ title: 'bars', labels: ['one', 'three'], values: [1, 3] }));
    const bar = pixelsWhere(img, (r, g, b) => r === 0x4e && g === 0x79 && b === 0xa7);
    const left = bar.filter((p) => p[0] < img.width / 2).length, right = bar.length - left;
    expect(left).toBeGreaterThan(0);
    expect(right / left).toBeGreaterThan(2.85);
    expect(right / left).toBeLessThan(3.15);
    expect(() => barChart({ title: 'bad', labels: ['a'], values: [1, 2] })).toThrow(RangeError);
    expect(() => barChart({ title: 'nan', labels: ['a', 'b'], values: [NaN, -2] })).not.toThrow();
  });
});

describe('plot: writePng', () => {
  it('creates missing parent directories and writes the bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gencore-plot-'));
    try {
      const png = barChart({ title: 'w', labels: ['a'], values: [1] });
      const path = join(dir, 'nested', 'deeper', 'out.png');
      writePng(path, png);
      expect(new Uint8Array(readFileSync(path))).toEqual(png);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
