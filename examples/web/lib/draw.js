// Small canvas plots for the playground (no dependency): bars, lines, heatmaps, point clouds.

export const COLORS = ['#2f6fde', '#e0563b', '#2b9a66', '#8a5cd1', '#c27c0e', '#1aa3b8'];
const INK = '#1d2330';
const MUTED = '#667085';
const GRID = '#eceef2';
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';

/** Make a canvas crisp on high-DPI screens; returns a 2D context in CSS pixels. */
export function setup(canvas, width, height) {
  const dpr = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.aspectRatio = `${width} / ${height}`;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = FONT;
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

export function fmt(x, digits = 3) {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(digits - 1);
  if (a >= 10 ** digits) return String(Math.round(x));
  const s = x.toPrecision(digits);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** Horizontal bars with labels and values (the GEMM GFLOP/s meter). */
export function hbars(canvas, { labels, values, unit = '', max, colors = COLORS, width = 560, rowHeight = 34, caption }) {
  const height = labels.length * rowHeight + (caption ? 34 : 14);
  const ctx = setup(canvas, width, height);
  const left = Math.ceil(Math.max(0, ...labels.map((l) => ctx.measureText(l).width))) + 22;
  const right = 88;
  const top = caption ? 26 : 6;
  const top100 = max ?? Math.max(1e-9, ...values.filter(Number.isFinite));
  if (caption) {
    ctx.fillStyle = MUTED;
    ctx.fillText(caption, 8, 16);
  }
  labels.forEach((label, i) => {
    const y = top + i * rowHeight;
    const v = values[i];
    ctx.fillStyle = INK;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    ctx.fillText(label, left - 10, y + rowHeight / 2);
    ctx.fillStyle = GRID;
    ctx.fillRect(left, y + 7, width - left - right, rowHeight - 14);
    if (Number.isFinite(v)) {
      ctx.fillStyle = colors[i % colors.length];
      ctx.fillRect(left, y + 7, ((width - left - right) * Math.min(v, top100)) / top100, rowHeight - 14);
      ctx.fillStyle = INK;
      ctx.textAlign = 'left';
      ctx.fillText(`${fmt(v)} ${unit}`, width - right + 8, y + rowHeight / 2);
    }
  });
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
}

/** Vertical bars (a distribution over tokens). */
export function vbars(canvas, { values, labels, color = COLORS[0], width = 560, height = 200, yMax, yLabel, highlight }) {
  const ctx = setup(canvas, width, height);
  const pad = { l: 58, r: 8, t: 10, b: 26 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const top = yMax ?? Math.max(1e-12, ...values);
  axes(ctx, pad, width, height, [0, top], yLabel);
  const bw = w / values.length;
  values.forEach((v, i) => {
    const bh = (h * Math.min(v, top)) / top;
    ctx.fillStyle = highlight?.[i] ? COLORS[1] : color;
    ctx.fillRect(pad.l + i * bw + 1, pad.t + h - bh, Math.max(1, bw - 2), bh);
    if (labels && bw >= 12) {
      ctx.fillStyle = MUTED;
      ctx.textAlign = 'center';
      ctx.fillText(labels[i], pad.l + (i + 0.5) * bw, height - 9);
    }
  });
  ctx.textAlign = 'left';
}

function axes(ctx, pad, width, height, [lo, hi], yLabel, log = false) {
  const h = height - pad.t - pad.b;
  ctx.strokeStyle = GRID;
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const ticks = log ? logTicks(lo, hi) : linearTicks(lo, hi);
  for (const t of ticks) {
    const frac = log ? (Math.log10(t) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (t - lo) / (hi - lo);
    const y = pad.t + h - frac * h;
    ctx.beginPath();
    ctx.moveTo(pad.l, y);
    ctx.lineTo(width - pad.r, y);
    ctx.stroke();
    ctx.fillText(fmt(t, 2), pad.l - 5, y);
  }
  if (yLabel) {
    ctx.save();
    ctx.translate(11, pad.t + h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(yLabel, 0, 0);
    ctx.restore();
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
}

function linearTicks(lo, hi, count = 4) {
  const step = niceStep((hi - lo) / count);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) out.push(10 ** e);
  return out.length ? out : [lo, hi];
}

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Line plot of series { name, x, y } against a shared x axis (log scales optional). */
export function lines(canvas, { series, xLabel, yLabel, logX = false, logY = false, width = 560, height = 240, title, yMin, yMax }) {
  const ctx = setup(canvas, width, height);
  const pad = { l: 64, r: 22, t: title ? 24 : 10, b: 36 };
  const xs = series.flatMap((s) => s.x).filter(Number.isFinite);
  const ys = series.flatMap((s) => s.y).filter((v) => Number.isFinite(v) && (!logY || v > 0));
  if (!xs.length || !ys.length) {
    // Nothing measured yet: an empty frame with the title, so the layout does not jump.
    ctx.strokeStyle = GRID;
    ctx.strokeRect(pad.l, pad.t, width - pad.l - pad.r, height - pad.t - pad.b);
    ctx.fillStyle = INK;
    if (title) ctx.fillText(title, pad.l, 15);
    ctx.fillStyle = MUTED;
    ctx.textAlign = 'center';
    ctx.fillText('press Run', pad.l + (width - pad.l - pad.r) / 2, pad.t + (height - pad.t - pad.b) / 2);
    ctx.textAlign = 'left';
    return;
  }
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [yMin ?? Math.min(...ys), yMax ?? Math.max(...ys)];
  if (logY) [y0, y1] = [10 ** Math.floor(Math.log10(y0)), 10 ** Math.ceil(Math.log10(y1))];
  else if (yMin === undefined) [y0, y1] = [Math.min(0, y0), y1 + (y1 - y0) * 0.08 || 1];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const tx = (x) => pad.l + (logX ? (Math.log(x) - Math.log(x0)) / (Math.log(x1) - Math.log(x0)) : (x - x0) / (x1 - x0)) * w;
  const ty = (y) => pad.t + h - (logY ? (Math.log(y) - Math.log(y0)) / (Math.log(y1) - Math.log(y0)) : (y - y0) / (y1 - y0)) * h;
  if (title) {
    ctx.fillStyle = INK;
    ctx.fillText(title, pad.l, 15);
  }
  axes(ctx, pad, width, height, [y0, y1], yLabel, logY);
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'center';
  for (const x of [...new Set(series.flatMap((s) => s.x))]) ctx.fillText(String(x), tx(x), height - pad.b + 14);
  if (xLabel) ctx.fillText(xLabel, pad.l + w / 2, height - 6);
  ctx.textAlign = 'left';
  series.forEach((s, si) => {
    const color = s.color ?? COLORS[si % COLORS.length];
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    let started = false;
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!Number.isFinite(y) || (logY && y <= 0)) return;
      if (started) ctx.lineTo(tx(x), ty(y));
      else ctx.moveTo(tx(x), ty(y));
      started = true;
    });
    ctx.stroke();
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!Number.isFinite(y) || (logY && y <= 0)) return;
      ctx.beginPath();
      ctx.arc(tx(x), ty(y), 3, 0, 2 * Math.PI);
      ctx.fill();
    });
    // Legend, top right (a single series is named by the title).
    if (series.length < 2) return;
    const lx = width - pad.r - 150;
    const ly = pad.t + 8 + si * 16;
    ctx.fillRect(lx, ly - 4, 14, 3);
    ctx.fillStyle = INK;
    ctx.fillText(s.name, lx + 20, ly);
  });
  ctx.lineWidth = 1;
}

/** Viridis-like colour ramp, t in [0, 1]. */
export function ramp(t) {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Heatmap of a rows×cols matrix with row/column labels and a colour bar. */
export function heatmap(canvas, { data, rows, cols, rowLabels, colLabels, width = 560, height = 330, max, title }) {
  const ctx = setup(canvas, width, height);
  const pad = { l: 46, r: 70, t: title ? 34 : 14, b: 14 };
  const size = Math.min((width - pad.l - pad.r) / cols, (height - pad.t - pad.b) / rows);
  const top = max ?? Math.max(1e-12, ...data);
  if (title) {
    ctx.fillStyle = INK;
    ctx.fillText(title, pad.l, 16);
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      ctx.fillStyle = ramp(data[i * cols + j] / top);
      ctx.fillRect(pad.l + j * size, pad.t + i * size, Math.ceil(size), Math.ceil(size));
    }
  }
  ctx.fillStyle = MUTED;
  ctx.font = `${Math.min(12, Math.floor(size * 0.8))}px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  if (rowLabels && size >= 9) rowLabels.forEach((l, i) => ctx.fillText(l, pad.l - 4, pad.t + (i + 0.5) * size));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  if (colLabels && size >= 9) colLabels.forEach((l, j) => ctx.fillText(l, pad.l + (j + 0.5) * size, pad.t - 2));
  ctx.font = FONT;
  // Colour bar.
  const bx = pad.l + cols * size + 16;
  const bh = rows * size;
  for (let y = 0; y < bh; y++) {
    ctx.fillStyle = ramp(1 - y / bh);
    ctx.fillRect(bx, pad.t + y, 12, 1);
  }
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillText(fmt(top, 2), bx + 16, pad.t + 5);
  ctx.fillText('0', bx + 16, pad.t + bh - 5);
  ctx.textBaseline = 'alphabetic';
}

/** 2D point cloud in [-lim, lim]² with optional reference rings/markers. */
export function points(canvas, { xy, count, lim = 1.2, width = 270, height = 270, title, marks, color = COLORS[0], note }) {
  const ctx = setup(canvas, width, height);
  const s = Math.min(width, height - 20) / (2 * lim);
  const cx = width / 2;
  const cy = 20 + (height - 20) / 2;
  ctx.strokeStyle = GRID;
  ctx.strokeRect(cx - lim * s, cy - lim * s, 2 * lim * s, 2 * lim * s);
  if (title) {
    ctx.fillStyle = INK;
    ctx.fillText(title, 6, 14);
  }
  if (note) {
    ctx.fillStyle = MUTED;
    ctx.textAlign = 'right';
    ctx.fillText(note, width - 6, 14);
    ctx.textAlign = 'left';
  }
  if (marks) {
    ctx.strokeStyle = '#c9ced8';
    for (const [mx, my, r] of marks) {
      ctx.beginPath();
      ctx.arc(cx + mx * s, cy - my * s, r * s, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }
  ctx.fillStyle = color;
  ctx.globalAlpha = 0.55;
  for (let i = 0; i < count; i++) {
    const x = xy[2 * i];
    const y = xy[2 * i + 1];
    if (Math.abs(x) > lim || Math.abs(y) > lim) continue;
    ctx.fillRect(cx + x * s - 1, cy - y * s - 1, 2, 2);
  }
  ctx.globalAlpha = 1;
}
