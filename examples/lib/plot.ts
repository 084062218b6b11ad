/**
 * Small PNG plotting helpers for the gencore demo and examples (Node only). Pixels are drawn directly into
 * an RGBA buffer and encoded with pngjs; text uses the built-in 5×7 bitmap font of ./font.ts, so there is
 * no native or font dependency. Every plot function returns the PNG file bytes; `writePng` saves them.
 *
 * Conventions shared by all plots: white background, a fixed colour palette (series i gets PALETTE[i]
 * unless it names its own colour), NaN/±Infinity values are skipped, and on a log axis non-positive values
 * are skipped as well. Sizes are in pixels.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pngjs from 'pngjs';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, glyphDrop, glyphRows } from './font.js';

/** One data series of `linePlot`. */
export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** '#rrggbb', '#rgb' or a palette name (blue, orange, red, green, purple, teal, yellow, pink, brown, gray, black). */
  color?: string;
  /** Draw a marker at each point instead of connecting the points with a line. */
  points?: boolean;
}

/** The colour cycle: muted, distinguishable hues (Tableau-like). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#79706e'];

const NAMED_COLORS: Record<string, string> = {
  blue: PALETTE[0], orange: PALETTE[1], red: PALETTE[2], green: PALETTE[3], purple: PALETTE[4],
  teal: PALETTE[5], yellow: PALETTE[6], pink: PALETTE[7], brown: PALETTE[8], gray: PALETTE[9], grey: PALETTE[9],
  black: '#222222', white: '#ffffff',
};

type RGB = readonly [number, number, number];

const INK: RGB = [34, 34, 34];
const AXIS: RGB = [90, 90, 90];
const GRID: RGB = [232, 232, 232];
const MINOR_GRID: RGB = [245, 245, 245];
const MISSING: RGB = [215, 215, 215];

/** Parses '#rrggbb', '#rgb' or a palette name; anything else (or undefined) falls back to the palette cycle. */
function parseColor(color: string | undefined, index: number): RGB {
  const hex = color === undefined ? PALETTE[index % PALETTE.length] : NAMED_COLORS[color.toLowerCase()] ?? color;
  let m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (m) return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
  m = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(hex);
  if (m) return [parseInt(m[1], 16) * 17, parseInt(m[2], 16) * 17, parseInt(m[3], 16) * 17];
  return parseColor(undefined, index);
}

// ---------------------------------------------------------------------------------------------------
// Raster canvas

interface Rect { x: number; y: number; w: number; h: number }

/** An RGBA raster with an optional clip rectangle, blending, lines, discs and bitmap text. */
class Canvas {
  readonly data: Uint8Array;
  /** Drawing outside this rectangle is discarded (inclusive-exclusive pixel bounds). */
  private clip: Rect;

  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height * 4).fill(255);
    this.clip = { x: 0, y: 0, w: width, h: height };
  }

  setClip(r: Rect | null): void {
    const full = { x: 0, y: 0, w: this.width, h: this.height };
    if (!r) { this.clip = full; return; }
    const x0 = Math.max(0, Math.floor(r.x)), y0 = Math.max(0, Math.floor(r.y));
    const x1 = Math.min(this.width, Math.ceil(r.x + r.w)), y1 = Math.min(this.height, Math.ceil(r.y + r.h));
    this.clip = { x: x0, y: y0, w: Math.max(0, x1 - x0), h: Math.max(0, y1 - y0) };
  }

  /** Blends one pixel (integer coordinates) with the given opacity in [0, 1]. */
  pixel(x: number, y: number, c: RGB, alpha = 1): void {
    const k = this.clip;
    if (x < k.x || y < k.y || x >= k.x + k.w || y >= k.y + k.h) return;
    const i = (y * this.width + x) * 4;
    const d = this.data;
    if (alpha >= 1) { d[i] = c[0]; d[i + 1] = c[1]; d[i + 2] = c[2]; return; }
    d[i] = Math.round(d[i] + (c[0] - d[i]) * alpha);
    d[i + 1] = Math.round(d[i + 1] + (c[1] - d[i + 1]) * alpha);
    d[i + 2] = Math.round(d[i + 2] + (c[2] - d[i + 2]) * alpha);
  }

  fillRect(x: number, y: number, w: number, h: number, c: RGB, alpha = 1): void {
    const x0 = Math.round(x), y0 = Math.round(y), x1 = Math.round(x + w), y1 = Math.round(y + h);
    for (let yy = Math.max(y0, this.clip.y); yy < Math.min(y1, this.clip.y + this.clip.h); yy++)
      for (let xx = Math.max(x0, this.clip.x); xx < Math.min(x1, this.clip.x + this.clip.w); xx++) this.pixel(xx, yy, c, alpha);
  }

  strokeRect(x: number, y: number, w: number, h: number, c: RGB): void {
    this.fillRect(x, y, w, 1, c);
    this.fillRect(x, y + h - 1, w, 1, c);
    this.fillRect(x, y, 1, h, c);
    this.fillRect(x + w - 1, y, 1, h, c);
  }

  /** Filled disc of radius r (pixels) centred at (cx, cy). */
  disc(cx: number, cy: number, r: number, c: RGB, alpha = 1): void {
    const x0 = Math.round(cx), y0 = Math.round(cy);
    if (r <= 0.5) { this.pixel(x0, y0, c, alpha); return; }
    const ri = Math.ceil(r), r2 = (r + 0.25) * (r + 0.25);
    for (let dy = -ri; dy <= ri; dy++)
      for (let dx = -ri; dx <= ri; dx++) if (dx * dx + dy * dy <= r2) this.pixel(x0 + dx, y0 + dy, c, alpha);
  }

  /**
   * Line from (x0, y0) to (x1, y1), `thickness` pixels wide. The segment is first clipped to the clip
   * rectangle in floating point (Liang–Barsky), so far-away endpoints cost nothing.
   */
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, thickness = 2): void {
    const k = this.clip, pad = thickness;
    const xmin = k.x - pad, xmax = k.x + k.w + pad, ymin = k.y - pad, ymax = k.y + k.h + pad;
    const dx = x1 - x0, dy = y1 - y0;
    let t0 = 0, t1 = 1;
    const edges: Array<[number, number]> = [[-dx, x0 - xmin], [dx, xmax - x0], [-dy, y0 - ymin], [dy, ymax - y0]];
    for (const [p, q] of edges) {
      if (p === 0) { if (q < 0) return; continue; }
      const t = q / p;
      if (p < 0) { if (t > t1) return; if (t > t0) t0 = t; } else { if (t < t0) return; if (t < t1) t1 = t; }
    }
    const ax = x0 + t0 * dx, ay = y0 + t0 * dy, bx = x0 + t1 * dx, by = y0 + t1 * dy;
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(bx - ax), Math.abs(by - ay))));
    const off = Math.floor((thickness - 1) / 2);
    let lastX = NaN, lastY = NaN;
    for (let s = 0; s <= steps; s++) {
      const px = Math.round(ax + ((bx - ax) * s) / steps) - off, py = Math.round(ay + ((by - ay) * s) / steps) - off;
      if (px === lastX && py === lastY) continue;
      lastX = px; lastY = py;
      for (let j = 0; j < thickness; j++) for (let i = 0; i < thickness; i++) this.pixel(px + i, py + j, c);
    }
  }

  /** Draws `text` with its top-left corner at (x, y); `scale` enlarges each font pixel to scale×scale. */
  text(x: number, y: number, text: string, c: RGB, scale = 1): void {
    let cx = Math.round(x);
    const y0 = Math.round(y);
    for (const ch of text) {
      const rows = glyphRows(ch), drop = glyphDrop(ch);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++)
        for (let gx = 0; gx < 5; gx++)
          if (rows[gy] & (0x10 >> gx)) this.fillRect(cx + gx * scale, y0 + (gy + drop) * scale, scale, scale, c);
      cx += GLYPH_ADVANCE * scale;
    }
  }

  /** Text rotated 90° counter-clockwise (reads bottom to top): its top edge at x, its start at y. */
  textUp(x: number, y: number, text: string, c: RGB, scale = 1): void {
    let u = 0;
    const x0 = Math.round(x), y0 = Math.round(y);
    for (const ch of text) {
      const rows = glyphRows(ch), drop = glyphDrop(ch);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++)
        for (let gx = 0; gx < 5; gx++)
          if (rows[gy] & (0x10 >> gx)) this.fillRect(x0 + (gy + drop) * scale, y0 - (u + gx + 1) * scale, scale, scale, c);
      u += GLYPH_ADVANCE;
    }
  }

  /** Text centred horizontally on cx. */
  textCentered(cx: number, y: number, text: string, c: RGB, scale = 1): void {
    this.text(cx - textWidth(text, scale) / 2, y, text, c, scale);
  }

  toPng(): Uint8Array {
    const png = new pngjs.PNG({ width: this.width, height: this.height });
    png.data.set(this.data);
    return new Uint8Array(pngjs.PNG.sync.write(png));
  }
}

/** Width in pixels of `text` at `scale` (no trailing spacing column). */
function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * GLYPH_ADVANCE - 1) * scale;
}

/** Shortens `text` with '..' so that it fits in `maxWidth` pixels. */
function fitText(text: string, maxWidth: number, scale = 1): string {
  if (textWidth(text, scale) <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 0 && textWidth(chars.join('') + '..', scale) > maxWidth) chars.pop();
  return chars.length ? chars.join('') + '..' : '';
}

// ---------------------------------------------------------------------------------------------------
// Scales and ticks

/** Maps data values to pixels. For a log scale lo/hi are log10 of the data bounds. */
interface Scale { lo: number; hi: number; log: boolean; p0: number; p1: number }

function toPixel(s: Scale, v: number): number {
  const u = s.log ? Math.log10(v) : v;
  return s.p0 + ((u - s.lo) / (s.hi - s.lo)) * (s.p1 - s.p0);
}

/** Whether v can be drawn on an axis (finite, and positive when the axis is logarithmic). */
function usable(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

/** 1, 2 or 5 × 10^k, the step closest above span/target. */
function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/** Formats a tick value with as many decimals as the step needs; very large/small values in e-notation. */
function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) {
    const digits = Math.max(0, Math.min(6, Math.floor(Math.log10(a) + 1e-9) - Math.floor(Math.log10(step) + 1e-9)));
    const [mant, exp] = v.toExponential(digits).split('e');
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    return `${m}e${exp.replace('+', '')}`;
  }
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

/** A data value to three significant digits, e.g. 1.05, 12.5, 3.14e-5. */
function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) {
    const [mant, exp] = v.toExponential(2).split('e');
    return `${mant.replace(/\.?0+$/, '')}e${exp.replace('+', '')}`;
  }
  return String(Number(v.toPrecision(3)));
}

interface Ticks { values: number[]; labels: string[]; minor: number[] }

/** Linear ticks at multiples of a 1/2/5 step inside [lo, hi]. */
function linearTicks(lo: number, hi: number, target: number, integerOnly = false): Ticks {
  let step = niceStep(hi - lo, target);
  if (integerOnly) step = Math.max(1, Math.round(step));
  const values: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let i = first; i * step <= hi + step * 1e-9; i++) {
    const v = i * step;
    values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    if (values.length > 1000) break;
  }
  return { values, labels: values.map((v) => formatTick(v, step)), minor: [] };
}

/** Log-axis ticks: every k-th decade (with 2..9 minor lines), or linear ticks when under ~1 decade. */
function logTicks(lo: number, hi: number, target: number): Ticks {
  if (hi - lo < 1) {
    const t = linearTicks(Math.pow(10, lo), Math.pow(10, hi), Math.max(2, target));
    if (t.values.length >= 2) return t;
  }
  const k = Math.max(1, Math.ceil((hi - lo) / Math.max(1, target)));
  // Few decades and room to spare: label 1, 2 and 5 times each power of ten.
  const mantissas = (hi - lo) * 3 <= target ? [1, 2, 5] : [1];
  const values: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    if (e % k !== 0) continue;
    for (const m of mantissas) {
      const u = e + Math.log10(m);
      if (u >= lo - 1e-9 && u <= hi + 1e-9) values.push(m * Math.pow(10, e));
    }
  }
  const minor: number[] = [];
  if (k === 1 && hi - lo <= 8) {
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++)
      for (let m = 2; m <= 9; m++) {
        const u = e + Math.log10(m);
        if (u >= lo && u <= hi) minor.push(m * Math.pow(10, e));
      }
  }
  const labels = values.map((v) => {
    const e = Math.floor(Math.log10(v) + 1e-9), m = Math.round(v / Math.pow(10, e));
    return Math.abs(e) <= 3 ? formatTick(v, Math.pow(10, e)) : `${m}e${e}`;
  });
  return { values, labels, minor };
}

/**
 * Picks the densest tick set (≤ `maxTarget` ticks) whose labels do not collide along an axis of
 * `lengthPx` pixels. `labelExtent` is a label's size along the axis.
 */
function chooseTicks(s: Scale, lengthPx: number, maxTarget: number, labelExtent: (label: string) => number, integerOnly = false): Ticks {
  let best: Ticks | null = null;
  for (let target = maxTarget; target >= 1; target--) {
    const t = s.log ? logTicks(s.lo, s.hi, target) : linearTicks(s.lo, s.hi, target, integerOnly);
    best = t;
    let ok = true;
    for (let i = 1; i < t.values.length && ok; i++) {
      const gap = Math.abs(toPixel(s, t.values[i]) - toPixel(s, t.values[i - 1]));
      ok = gap >= (labelExtent(t.labels[i]) + labelExtent(t.labels[i - 1])) / 2 + 8;
    }
    if (ok && lengthPx > 0) return t;
  }
  return best ?? { values: [], labels: [], minor: [] };
}

/** Data bounds of the usable values, or null when there are none. */
function extent(arrays: ArrayLike<number>[], log: boolean): [number, number] | null {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays)
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (!usable(v, log)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * Converts data bounds into scale bounds (log10 units on a log axis): widens a degenerate range, adds
 * `padFrac` of the span on both sides, and with `nice` rounds outward to the tick step (or whole decades).
 */
function domain(bounds: [number, number] | null, log: boolean, padFrac: number, nice: boolean): [number, number] {
  let [lo, hi] = bounds ?? (log ? [1, 10] : [0, 1]);
  if (log) { lo = Math.log10(lo); hi = Math.log10(hi); }
  if (hi - lo <= Math.abs(hi) * 1e-12 || hi === lo) {
    const w = log ? 0.5 : Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= w; hi += w;
  }
  const span = hi - lo;
  if (nice && log && span >= 1.5) return [Math.floor(lo + 1e-9), Math.ceil(hi - 1e-9)];
  lo -= span * padFrac; hi += span * padFrac;
  if (nice && !log) {
    const step = niceStep(hi - lo, 10);
    lo = Math.floor(lo / step + 1e-9) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
  }
  return [lo, hi];
}

// ---------------------------------------------------------------------------------------------------
// Axes

interface AxesSpec {
  area: Rect;
  xs: Scale;
  ys: Scale;
  xt: Ticks;
  yt: Ticks;
  scale: number;
  grid: boolean;
}

/** Grid, frame, tick marks and tick labels around a plot area. */
function drawAxes(cv: Canvas, a: AxesSpec): void {
  const { area, xs, ys, xt, yt, scale } = a;
  const bottom = area.y + area.h, right = area.x + area.w;
  cv.setClip(area);
  if (a.grid) {
    for (const v of xt.minor) cv.fillRect(Math.round(toPixel(xs, v)), area.y, 1, area.h, MINOR_GRID);
    for (const v of yt.minor) cv.fillRect(area.x, Math.round(toPixel(ys, v)), area.w, 1, MINOR_GRID);
    for (const v of xt.values) cv.fillRect(Math.round(toPixel(xs, v)), area.y, 1, area.h, GRID);
    for (const v of yt.values) cv.fillRect(area.x, Math.round(toPixel(ys, v)), area.w, 1, GRID);
  }
  cv.setClip(null);
  cv.strokeRect(area.x - 1, area.y - 1, area.w + 2, area.h + 2, AXIS);
  const fh = GLYPH_HEIGHT * scale;
  xt.values.forEach((v, i) => {
    const px = Math.round(toPixel(xs, v));
    if (px < area.x - 1 || px > right + 1) return;
    cv.fillRect(px, bottom + 1, 1, 4, AXIS);
    const w = textWidth(xt.labels[i], scale);
    const lx = Math.min(Math.max(px - w / 2, 1), cv.width - w - 1);
    cv.text(lx, bottom + 8, xt.labels[i], INK, scale);
  });
  yt.values.forEach((v, i) => {
    const py = Math.round(toPixel(ys, v));
    if (py < area.y - 1 || py > bottom + 1) return;
    cv.fillRect(area.x - 5, py, 4, 1, AXIS);
    const w = textWidth(yt.labels[i], scale);
    const ly = Math.min(Math.max(py - fh / 2, 1), cv.height - fh - 1);
    cv.text(area.x - 8 - w, ly, yt.labels[i], INK, scale);
  });
}

/** Text scale for labels: 1 for ordinary sizes, 2 on large pictures. */
function labelScale(width: number, height: number): number {
  return Math.min(width, height) >= 900 ? 2 : 1;
}

function drawTitle(cv: Canvas, title: string, y: number, scale: number): void {
  cv.textCentered(cv.width / 2, y, fitText(title, cv.width - 16, scale), INK, scale);
}

function checkSize(fn: string, name: string, v: number, min: number): number {
  if (!Number.isFinite(v) || v < min) throw new RangeError(`${fn}: ${name} must be a number >= ${min}, got ${v}`);
  return Math.round(v);
}

// ---------------------------------------------------------------------------------------------------
// Line plot

/**
 * Line (or marker) plot of one or more series on shared axes, with a legend when any series has a name.
 * Points that are NaN/±Infinity — or non-positive on a log axis — are skipped and break the line there.
 *
 * @param opts.width / opts.height picture size in pixels (default 800×500).
 * @param opts.yMin / opts.yMax fix the y range (data units); otherwise it is taken from the data.
 * @returns PNG file bytes.
 */
export function linePlot(opts: {
  title: string; xLabel?: string; yLabel?: string; series: Series[]; logX?: boolean; logY?: boolean;
  width?: number; height?: number; yMin?: number; yMax?: number;
}): Uint8Array {
  const width = checkSize('linePlot', 'width', opts.width ?? 800, 120);
  const height = checkSize('linePlot', 'height', opts.height ?? 500, 100);
  const logX = !!opts.logX, logY = !!opts.logY;
  const series = opts.series ?? [];
  const ls = labelScale(width, height), ts = ls + 1, fh = GLYPH_HEIGHT * ls;
  const cv = new Canvas(width, height);

  const anyMarkers = series.some((s) => s.points);
  const xd = domain(extent(series.map((s) => s.x), logX), logX, anyMarkers ? 0.03 : 0, false);
  const yBounds = extent(series.map((s) => s.y), logY);
  let yd = domain(yBounds, logY, 0.02, true);
  if (opts.yMin !== undefined && usable(opts.yMin, logY)) yd[0] = logY ? Math.log10(opts.yMin) : opts.yMin;
  if (opts.yMax !== undefined && usable(opts.yMax, logY)) yd[1] = logY ? Math.log10(opts.yMax) : opts.yMax;
  if (!(yd[1] > yd[0])) yd = domain(yBounds, logY, 0.02, true);

  const top = 12 + GLYPH_HEIGHT * ts + 14;
  const bottom = 8 + fh + 10 + (opts.xLabel ? fh + 10 : 0);
  const ys: Scale = { lo: yd[0], hi: yd[1], log: logY, p0: height - bottom, p1: top };
  const yt = chooseTicks(ys, height - bottom - top, 10, () => fh);
  const yLabelW = Math.max(0, ...yt.labels.map((l) => textWidth(l, ls)));
  const left = 10 + (opts.yLabel ? fh + 10 : 0) + yLabelW + 8;
  const xs: Scale = { lo: xd[0], hi: xd[1], log: logX, p0: left, p1: width - 10 };
  let xt = chooseTicks(xs, width - left - 10, 12, (l) => textWidth(l, ls));
  const lastLabel = xt.labels.length ? textWidth(xt.labels[xt.labels.length - 1], ls) / 2 : 0;
  const right = Math.max(16, lastLabel + 6);
  xs.p1 = width - right;
  xt = chooseTicks(xs, xs.p1 - left, 12, (l) => textWidth(l, ls));
  const area: Rect = { x: left, y: top, w: xs.p1 - left, h: ys.p0 - top };

  drawTitle(cv, opts.title, 12, ts);
  drawAxes(cv, { area, xs, ys, xt, yt, scale: ls, grid: true });
  if (opts.xLabel) cv.textCentered(area.x + area.w / 2, height - 8 - fh, fitText(opts.xLabel, width - 16, ls), INK, ls);
  if (opts.yLabel) {
    const label = fitText(opts.yLabel, area.h, ls);
    cv.textUp(10, area.y + area.h / 2 + textWidth(label, ls) / 2, label, INK, ls);
  }

  // Data, clipped to the plot area.
  const pixelPoints: Array<[number, number]> = [];
  cv.setClip(area);
  series.forEach((s, si) => {
    const c = parseColor(s.color, si);
    const n = Math.min(s.x.length, s.y.length);
    let prev: [number, number] | null = null;
    for (let i = 0; i < n; i++) {
      const x = s.x[i], y = s.y[i];
      if (!usable(x, logX) || !usable(y, logY)) { prev = null; continue; }
      const p: [number, number] = [toPixel(xs, x), toPixel(ys, y)];
      if (pixelPoints.length < 20000 || i % 16 === 0) pixelPoints.push(p);
      if (s.points) cv.disc(p[0], p[1], 3 * ls, c, 0.85);
      else if (prev) cv.line(prev[0], prev[1], p[0], p[1], c, 2 * ls);
      else if (n === 1 || !usable(s.x[i + 1] ?? NaN, logX) || !usable(s.y[i + 1] ?? NaN, logY)) cv.disc(p[0], p[1], 1.5 * ls, c);
      prev = p;
    }
  });
  cv.setClip(null);

  const named = series.map((s, i) => ({ s, i })).filter(({ s }) => s.name);
  if (named.length) drawLegend(cv, area, named.map(({ s, i }) => ({ name: s.name, color: parseColor(s.color, i), points: !!s.points })), pixelPoints, ls);
  return cv.toPng();
}

/** Legend box in the plot-area corner that hides the fewest data points. */
function drawLegend(cv: Canvas, area: Rect, items: Array<{ name: string; color: RGB; points: boolean }>, pts: Array<[number, number]>, ls: number): void {
  const pad = 6 * ls, swatch = 18 * ls, lineH = (GLYPH_HEIGHT + 5) * ls;
  const maxText = Math.max(10, area.w - 2 * pad - swatch - 6 * ls - 16);
  const maxRows = Math.max(1, Math.floor((area.h - 16 - 2 * pad) / lineH));
  let shown = items;
  if (items.length > maxRows) shown = [...items.slice(0, maxRows - 1), { name: `+${items.length - maxRows + 1} more`, color: [255, 255, 255], points: false }];
  const names = shown.map((it) => fitText(it.name, maxText, ls));
  const w = 2 * pad + swatch + 6 * ls + Math.max(...names.map((n) => textWidth(n, ls)));
  const h = 2 * pad + shown.length * lineH - 5 * ls;
  const corners: Array<[number, number]> = [
    [area.x + area.w - w - 8, area.y + 8], [area.x + 8, area.y + 8],
    [area.x + area.w - w - 8, area.y + area.h - h - 8], [area.x + 8, area.y + area.h - h - 8],
  ];
  let best = corners[0], bestCount = Infinity;
  for (const [cx, cy] of corners) {
    let count = 0;
    for (const [px, py] of pts) if (px >= cx - 4 && px <= cx + w + 4 && py >= cy - 4 && py <= cy + h + 4) count++;
    if (count < bestCount) { bestCount = count; best = [cx, cy]; }
  }
  const [x, y] = best;
  cv.fillRect(x, y, w, h, [255, 255, 255], 0.9);
  cv.strokeRect(x, y, w, h, [190, 190, 190]);
  shown.forEach((it, i) => {
    const ty = y + pad + i * lineH, mid = ty + Math.floor((GLYPH_HEIGHT * ls) / 2);
    if (it.points) cv.disc(x + pad + swatch / 2, mid, 3 * ls, it.color);
    else cv.fillRect(x + pad, mid - ls, swatch, 2 * ls, it.color);
    cv.text(x + pad + swatch + 6 * ls, ty, names[i], INK, ls);
  });
}

// ---------------------------------------------------------------------------------------------------
// Scatter panels

/**
 * A grid of small scatter plots (e.g. samples at successive steps), `cols` per row, all on the same
 * axis range so they can be compared.
 *
 * @param opts.panelSize side of one panel in pixels, including its title and tick labels (default 260).
 * @param opts.range [xmin, xmax, ymin, ymax] shared by all panels; default: the data of all panels, padded 5 %.
 * @param opts.pointSize marker radius in pixels (default 2, or 1 when panels hold more than 3000 points).
 * @returns PNG file bytes.
 */
export function scatterPanels(opts: {
  title: string; cols: number;
  panels: Array<{ title: string; x: ArrayLike<number>; y: ArrayLike<number>; color?: string }>;
  panelSize?: number; range?: [number, number, number, number]; pointSize?: number;
}): Uint8Array {
  const panels = opts.panels ?? [];
  const n = Math.max(1, panels.length);
  const cols = Math.max(1, Math.min(n, Math.round(checkSize('scatterPanels', 'cols', opts.cols, 1))));
  const rows = Math.ceil(n / cols);
  const size = checkSize('scatterPanels', 'panelSize', opts.panelSize ?? 260, 80);
  const ls = labelScale(size * 2, size * 2) > 1 && size >= 450 ? 2 : 1;
  const ts = 2, fh = GLYPH_HEIGHT * ls;
  const titleH = 12 + GLYPH_HEIGHT * ts + 10;
  const width = cols * size + 20, height = titleH + rows * size + 10;
  const cv = new Canvas(width, height);
  drawTitle(cv, opts.title, 12, Math.min(ts, width < 300 ? 1 : ts));

  let xd: [number, number], yd: [number, number];
  const r = opts.range;
  if (r && r.length === 4 && r.every(Number.isFinite) && r[1] > r[0] && r[3] > r[2]) {
    xd = [r[0], r[1]]; yd = [r[2], r[3]];
  } else {
    xd = domain(extent(panels.map((p) => p.x), false), false, 0.05, false);
    yd = domain(extent(panels.map((p) => p.y), false), false, 0.05, false);
  }
  const maxPoints = Math.max(0, ...panels.map((p) => Math.min(p.x.length, p.y.length)));
  const radius = opts.pointSize !== undefined && opts.pointSize >= 0 ? opts.pointSize : maxPoints > 3000 ? 1 : 2;
  const alpha = maxPoints > 1000 ? 0.45 : 0.8;

  // Tick layout is the same for every panel: work it out once.
  const innerTop = 6 + fh + 6, innerBottom = fh + 14, innerRight = 10;
  const ys: Scale = { lo: yd[0], hi: yd[1], log: false, p0: size - innerBottom, p1: innerTop };
  const yt = chooseTicks(ys, size - innerBottom - innerTop, 5, () => fh);
  const innerLeft = 8 + Math.max(0, ...yt.labels.map((l) => textWidth(l, ls))) + 8;
  const xs: Scale = { lo: xd[0], hi: xd[1], log: false, p0: innerLeft, p1: size - innerRight };
  const xt = chooseTicks(xs, size - innerLeft - innerRight, 5, (l) => textWidth(l, ls));

  panels.forEach((p, pi) => {
    const ox = 10 + (pi % cols) * size, oy = titleH + Math.floor(pi / cols) * size;
    const pxs: Scale = { ...xs, p0: ox + xs.p0, p1: ox + xs.p1 };
    const pys: Scale = { ...ys, p0: oy + ys.p0, p1: oy + ys.p1 };
    const area: Rect = { x: pxs.p0, y: pys.p1, w: pxs.p1 - pxs.p0, h: pys.p0 - pys.p1 };
    cv.textCentered(area.x + area.w / 2, oy + 6, fitText(p.title, size - 12, ls), INK, ls);
    drawAxes(cv, { area, xs: pxs, ys: pys, xt, yt, scale: ls, grid: true });
    const c = parseColor(p.color, pi);
    cv.setClip(area);
    const m = Math.min(p.x.length, p.y.length);
    for (let i = 0; i < m; i++) {
      const x = p.x[i], y = p.y[i];
      if (Number.isFinite(x) && Number.isFinite(y)) cv.disc(toPixel(pxs, x), toPixel(pys, y), radius, c, alpha);
    }
    cv.setClip(null);
  });
  return cv.toPng();
}

// ---------------------------------------------------------------------------------------------------
// Heatmap

/** Viridis colour map, sampled at 9 evenly spaced stops and interpolated linearly. */
const VIRIDIS: RGB[] = [
  [68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [253, 231, 37],
];

function viridis(t: number): RGB {
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u)), f = u - i;
  const a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/**
 * Heatmap of a row-major `rows × cols` matrix (row 0 at the top) in the viridis colour map, with a
 * colour bar. Cells that are NaN/±Infinity (or ≤ 0 with `logScale`) are drawn light gray.
 *
 * @param opts.data row-major values; length must equal rows*cols.
 * @param opts.width / opts.height picture size in pixels (default 800×560). Cells stay square unless the
 *   matrix is more than 4 times wider than tall (or the reverse).
 * @returns PNG file bytes.
 */
export function heatmap(opts: {
  title: string; data: ArrayLike<number>; rows: number; cols: number; xLabel?: string; yLabel?: string;
  logScale?: boolean; width?: number; height?: number;
}): Uint8Array {
  const rows = opts.rows, cols = opts.cols, data = opts.data;
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1)
    throw new RangeError(`heatmap: rows and cols must be positive integers, got ${rows} × ${cols}`);
  if (data.length !== rows * cols)
    throw new RangeError(`heatmap: data.length ${data.length} does not match rows*cols = ${rows * cols}`);
  const width = checkSize('heatmap', 'width', opts.width ?? 800, 160);
  const height = checkSize('heatmap', 'height', opts.height ?? 560, 120);
  const log = !!opts.logScale;
  const ls = labelScale(width, height), ts = ls + 1, fh = GLYPH_HEIGHT * ls;
  const cv = new Canvas(width, height);

  const vb = extent([data], log);
  const vd = domain(vb, log, 0, false);
  const vs: Scale = { lo: vd[0], hi: vd[1], log, p0: 0, p1: 1 };

  const top = 12 + GLYPH_HEIGHT * ts + 14;
  const bottom = 8 + fh + 10 + (opts.xLabel ? fh + 10 : 0);
  const rowScaleProbe: Scale = { lo: -0.5, hi: rows - 0.5, log: false, p0: top, p1: height - bottom };
  const rowTicks = chooseTicks(rowScaleProbe, height - top - bottom, 10, () => fh, true);
  const left = 10 + (opts.yLabel ? fh + 10 : 0) + Math.max(0, ...rowTicks.labels.map((l) => textWidth(l, ls))) + 8;

  // Colour bar ticks decide the right margin.
  const barW = 16 * ls;
  const barProbe: Scale = { ...vs, p0: height - bottom, p1: top };
  const barTicks = chooseTicks(barProbe, height - top - bottom, 8, () => fh);
  const barLabelW = Math.max(0, ...barTicks.labels.map((l) => textWidth(l, ls)));
  const right = 16 + barW + 8 + barLabelW + 10;

  let areaW = width - left - right, areaH = height - top - bottom;
  const aspect = cols / rows;
  if (aspect <= 4 && aspect >= 0.25) {
    const cell = Math.min(areaW / cols, areaH / rows);
    areaW = Math.max(1, Math.floor(cell * cols)); areaH = Math.max(1, Math.floor(cell * rows));
  }
  const ax = left + Math.floor((width - left - right - areaW) / 2), ay = top;
  const area: Rect = { x: ax, y: ay, w: areaW, h: areaH };

  // Cells: every pixel looks up the cell it falls in (nearest-neighbour up/down sampling).
  for (let py = 0; py < areaH; py++) {
    const r = Math.min(rows - 1, Math.floor(((py + 0.5) * rows) / areaH));
    for (let px = 0; px < areaW; px++) {
      const c = Math.min(cols - 1, Math.floor(((px + 0.5) * cols) / areaW));
      const v = data[r * cols + c];
      cv.pixel(ax + px, ay + py, usable(v, log) ? viridis(toPixel(vs, v)) : MISSING);
    }
  }
  const xs: Scale = { lo: -0.5, hi: cols - 0.5, log: false, p0: ax, p1: ax + areaW };
  const ys: Scale = { lo: -0.5, hi: rows - 0.5, log: false, p0: ay, p1: ay + areaH };
  const xt = chooseTicks(xs, areaW, 12, (l) => textWidth(l, ls), true);
  const yt = chooseTicks(ys, areaH, 10, () => fh, true);
  drawTitle(cv, opts.title, 12, ts);
  drawAxes(cv, { area, xs, ys, xt, yt, scale: ls, grid: false });
  if (opts.xLabel) cv.textCentered(ax + areaW / 2, ay + areaH + 8 + fh + 10, fitText(opts.xLabel, width - 16, ls), INK, ls);
  if (opts.yLabel) {
    const label = fitText(opts.yLabel, areaH, ls);
    const labelX = Math.max(10, ax - 8 - Math.max(0, ...yt.labels.map((l) => textWidth(l, ls))) - 10 - fh);
    cv.textUp(labelX, ay + areaH / 2 + textWidth(label, ls) / 2, label, INK, ls);
  }

  // Colour bar, same height as the cells.
  const bx = ax + areaW + 16;
  const bs: Scale = { ...vs, p0: ay + areaH, p1: ay };
  for (let py = 0; py < areaH; py++) cv.fillRect(bx, ay + py, barW, 1, viridis(1 - (py + 0.5) / areaH));
  cv.strokeRect(bx - 1, ay - 1, barW + 2, areaH + 2, AXIS);
  const bt = chooseTicks(bs, areaH, 8, () => fh);
  bt.values.forEach((v, i) => {
    const py = Math.round(toPixel(bs, v));
    cv.fillRect(bx + barW + 1, py, 4, 1, AXIS);
    cv.text(bx + barW + 8, Math.min(Math.max(py - fh / 2, 1), height - fh - 1), bt.labels[i], INK, ls);
  });
  return cv.toPng();
}

// ---------------------------------------------------------------------------------------------------
// Bar chart

/**
 * Vertical bar chart from a zero baseline (negative values go down), one bar per label, values printed
 * above the bars when there is room. Labels that do not fit under their bar are written vertically.
 * NaN/±Infinity values get no bar.
 *
 * @param opts.labels / opts.values same length.
 * @param opts.width / opts.height picture size in pixels (default 800×500).
 * @returns PNG file bytes.
 */
export function barChart(opts: { title: string; labels: string[]; values: number[]; yLabel?: string; width?: number; height?: number }): Uint8Array {
  const { labels, values } = opts;
  if (labels.length !== values.length)
    throw new RangeError(`barChart: labels.length ${labels.length} does not match values.length ${values.length}`);
  const width = checkSize('barChart', 'width', opts.width ?? 800, 120);
  const height = checkSize('barChart', 'height', opts.height ?? 500, 100);
  const ls = labelScale(width, height), ts = ls + 1, fh = GLYPH_HEIGHT * ls;
  const cv = new Canvas(width, height);
  const n = labels.length;

  const b = extent([values], false);
  const bounds: [number, number] = b ? [Math.min(0, b[0]), Math.max(0, b[1])] : [0, 1];
  const yd = domain(bounds, false, 0.04, true);
  if (b && b[0] >= 0) yd[0] = 0;
  if (b && b[1] <= 0) yd[1] = 0;

  const top = 12 + GLYPH_HEIGHT * ts + 14;
  // Provisional left margin to decide whether labels fit horizontally.
  const provisionalSlot = (width - 80) / Math.max(1, n);
  const maxLabelW = Math.max(0, ...labels.map((l) => textWidth(l, ls)));
  const vertical = maxLabelW > provisionalSlot - 4;
  const labelBand = vertical ? Math.min(maxLabelW, Math.floor(height * 0.35)) : fh;
  const bottom = 8 + labelBand + 10;
  const ys: Scale = { lo: yd[0], hi: yd[1], log: false, p0: height - bottom, p1: top };
  const yt = chooseTicks(ys, height - top - bottom, 10, () => fh);
  const left = 10 + (opts.yLabel ? fh + 10 : 0) + Math.max(0, ...yt.labels.map((l) => textWidth(l, ls))) + 8;
  const area: Rect = { x: left, y: top, w: width - left - 16, h: ys.p0 - top };
  const xs: Scale = { lo: 0, hi: 1, log: false, p0: left, p1: left + area.w };

  drawTitle(cv, opts.title, 12, ts);
  drawAxes(cv, { area, xs, ys, xt: { values: [], labels: [], minor: [] }, yt, scale: ls, grid: true });
  if (opts.yLabel) {
    const label = fitText(opts.yLabel, area.h, ls);
    cv.textUp(10, area.y + area.h / 2 + textWidth(label, ls) / 2, label, INK, ls);
  }

  const slot = area.w / Math.max(1, n);
  const barW = Math.max(1, Math.floor(slot * 0.7));
  const zero = Math.round(toPixel(ys, 0));
  const color = parseColor(undefined, 0);
  for (let i = 0; i < n; i++) {
    const cx = area.x + slot * (i + 0.5);
    const bx = Math.round(cx - barW / 2);
    const v = values[i];
    if (Number.isFinite(v)) {
      const py = Math.round(toPixel(ys, v));
      cv.setClip(area);
      cv.fillRect(bx, Math.min(py, zero), barW, Math.max(1, Math.abs(zero - py)), color);
      cv.setClip(null);
      const valueText = formatValue(v);
      if (textWidth(valueText, ls) <= slot - 2) {
        const ty = v >= 0 ? py - fh - 4 : py + 4;
        if (ty >= area.y && ty + fh <= area.y + area.h) cv.textCentered(cx, ty, valueText, INK, ls);
      }
    }
    cv.fillRect(Math.round(cx), area.y + area.h + 1, 1, 4, AXIS);
    if (vertical) {
      const label = fitText(labels[i], labelBand, ls);
      cv.textUp(Math.round(cx - fh / 2), area.y + area.h + 8 + textWidth(label, ls), label, INK, ls);
    } else {
      cv.textCentered(cx, area.y + area.h + 8, labels[i], INK, ls);
    }
  }
  if (yd[0] < 0) cv.fillRect(area.x, zero, area.w, 1, AXIS);
  return cv.toPng();
}

// ---------------------------------------------------------------------------------------------------

/** Writes PNG bytes to `path`, creating missing parent directories. */
export function writePng(path: string, png: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, png);
}
