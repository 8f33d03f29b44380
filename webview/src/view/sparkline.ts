/** A small error-rate sparkline: a polyline over 0..1 with the latest value as a dot. */
import { svg } from './dom.ts';

const W = 90;
const H = 22;

export function createSparkline(label: string): SVGSVGElement {
  const s = svg('svg', { class: 'sparkline', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label });
  s.append(svg('line', { class: 'baseline', x1: 0, y1: H - 1, x2: W, y2: H - 1 }), svg('polyline', { class: 'line', points: '' }), svg('circle', { class: 'dot', r: 2, cx: -10, cy: -10 }));
  return s;
}

export function drawSparkline(s: SVGSVGElement, series: readonly number[], label: string): void {
  const line = s.querySelector('polyline')!;
  const dot = s.querySelector('circle')!;
  s.setAttribute('aria-label', label);
  if (series.length === 0) {
    line.setAttribute('points', '');
    dot.setAttribute('cx', '-10');
    return;
  }
  const step = series.length > 1 ? W / (series.length - 1) : 0;
  // Error rates live in 0..1; the top keeps a pixel of room for the dot.
  const y = (v: number) => (H - 2 - Math.max(0, Math.min(1, v)) * (H - 4) + 1).toFixed(1);
  const pts = series.map((v, i) => `${(i * step).toFixed(1)},${y(v)}`).join(' ');
  line.setAttribute('points', series.length === 1 ? `0,${y(series[0])} ${W},${y(series[0])}` : pts);
  dot.setAttribute('cx', String(series.length === 1 ? W - 2 : (series.length - 1) * step));
  dot.setAttribute('cy', y(series[series.length - 1]));
}
