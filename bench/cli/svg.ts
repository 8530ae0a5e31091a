// The chart --svg draws: every series of the run as a bar on one log scale
// (ours blue, peers grey, C floors green), grouped by comparison, and — when
// the run scanned parent sizes — fork's cost against the parent's heap, one
// line per command. Plain SVG 1.1, no script, no external resources.
import { byRole, groups, type Report, type Result } from './report';
import { describeSystem } from './system';

const WIDTH = 1000;
const LABEL_WIDTH = 330;
const PLOT_LEFT = LABEL_WIDTH + 10;
const PLOT_RIGHT = WIDTH - 90;
const BAR_HEIGHT = 14;
const BAR_GAP = 5;
const COLORS: Record<Result['series']['role'], string> = { ours: '#2563eb', peer: '#9ca3af', floor: '#16a34a' };
/** Peers' curves; ours and the floor keep their bar colours. */
const PEER_LINE_COLORS = ['#dc2626', '#d97706', '#7c3aed', '#6b7280', '#0891b2', '#db2777'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A time in the unit that reads best (for labels). */
function humanTime(seconds: number): string {
  const units: Array<[number, string]> = [
    [1, 's'],
    [1e-3, 'ms'],
    [1e-6, 'µs'],
    [1e-9, 'ns'],
  ];
  for (const [scale, symbol] of units) {
    if (seconds >= scale) {
      const v = seconds / scale;
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${symbol}`;
    }
  }
  return `${(seconds / 1e-9).toFixed(2)} ns`;
}

function logScale(min: number, max: number, left: number, right: number): (v: number) => number {
  const lo = Math.log10(min);
  const hi = Math.log10(max);
  return (v: number) => left + ((Math.log10(v) - lo) / (hi - lo || 1)) * (right - left);
}

function barChart(report: Report, top: number): { svg: string[]; height: number } {
  const results = report.results;
  const means = results.map((r) => r.stats.mean).filter((m) => m > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...means)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...means)));
  const x = logScale(lo, hi, PLOT_LEFT, PLOT_RIGHT);
  const svg: string[] = [];
  let y = top + 24;
  const body: string[] = [];
  for (const group of groups(results)) {
    body.push(`<text class="group" x="10" y="${y + 11}">${escapeXml(`${group.suite}: ${group.name}`)}</text>`);
    y += 18;
    for (const result of group.results) {
      const { series, stats } = result;
      const width = Math.max(1, x(Math.max(stats.mean, lo)) - PLOT_LEFT);
      const label = `${series.command}: ${humanTime(stats.mean)}${stats.stddev === null ? '' : ` ± ${humanTime(stats.stddev)}`}`;
      body.push(
        `<text class="label" x="${LABEL_WIDTH}" y="${y + 11}" text-anchor="end">${escapeXml(series.command)}</text>`,
        `<rect class="bar" data-suite="${escapeXml(series.suite)}" data-group="${escapeXml(series.group)}" data-command="${escapeXml(series.command)}" ` +
          `x="${PLOT_LEFT}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[series.role]}"><title>${escapeXml(label)}</title></rect>`,
        `<text class="value" x="${(PLOT_LEFT + width + 4).toFixed(1)}" y="${y + 11}">${escapeXml(humanTime(stats.mean))}</text>`,
      );
      y += BAR_HEIGHT + BAR_GAP;
    }
    y += 8;
  }
  // One grid line per decade, labelled, behind the bars.
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    const gx = x(v).toFixed(1);
    svg.push(`<line class="grid" x1="${gx}" y1="${top + 14}" x2="${gx}" y2="${y}"/>`);
    svg.push(`<text class="axis" x="${gx}" y="${top + 10}" text-anchor="middle">${escapeXml(humanTime(v))}</text>`);
  }
  svg.push(...body);
  return { svg, height: y - top };
}

/** Fork cost against the parent's heap: the series that carry a heap_mb parameter in the fork-cost groups. */
function heapCurve(report: Report, top: number): { svg: string[]; height: number } | null {
  const scan = report.results.filter((r) => r.series.group.startsWith("fork against the parent's heap") && r.series.parameters.heap_mb !== undefined);
  const heaps = [...new Set(scan.map((r) => Number(r.series.parameters.heap_mb)))].sort((a, b) => a - b);
  if (heaps.length < 2) return null;
  const commands = [...new Map([...scan].sort(byRole).map((r) => [r.series.command, r.series.role])).entries()];
  let peerIndex = 0;
  const height = 300;
  const plotTop = top + 40;
  const plotBottom = top + height - 40;
  const left = 90;
  const right = WIDTH - 260;
  const means = scan.map((r) => r.stats.mean).filter((m) => m > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...means)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...means)));
  const yOf = (v: number): number => plotBottom - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1)) * (plotBottom - plotTop);
  const xOf = (mb: number): number => left + ((mb - heaps[0]) / (heaps[heaps.length - 1] - heaps[0])) * (right - left);
  const svg: string[] = [`<text class="title" x="10" y="${top + 20}">fork() against the parent's heap (mean, log scale)</text>`];
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    svg.push(`<line class="grid" x1="${left}" y1="${yOf(v).toFixed(1)}" x2="${right}" y2="${yOf(v).toFixed(1)}"/>`);
    svg.push(`<text class="axis" x="${left - 6}" y="${(yOf(v) + 4).toFixed(1)}" text-anchor="end">${escapeXml(humanTime(v))}</text>`);
  }
  for (const mb of heaps) {
    svg.push(`<text class="axis" x="${xOf(mb).toFixed(1)}" y="${plotBottom + 16}" text-anchor="middle">${mb} MB</text>`);
  }
  commands.forEach(([command, role], i) => {
    const color = role === 'peer' ? PEER_LINE_COLORS[peerIndex++ % PEER_LINE_COLORS.length] : COLORS[role];
    const points = heaps
      .map((mb) => scan.find((r) => r.series.command === command && Number(r.series.parameters.heap_mb) === mb))
      .filter((r): r is Result => r !== undefined && r.stats.mean > 0)
      .map((r) => [xOf(Number(r.series.parameters.heap_mb)), yOf(r.stats.mean)] as const);
    if (points.length === 0) return;
    svg.push(`<polyline class="curve" data-command="${escapeXml(command)}" fill="none" stroke="${color}" stroke-width="2" points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`);
    for (const [px, py] of points) svg.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = plotTop + i * 18;
    svg.push(`<rect x="${right + 20}" y="${ly - 9}" width="12" height="12" fill="${color}"/>`);
    svg.push(`<text class="label" x="${right + 38}" y="${ly + 1}">${escapeXml(command)}</text>`);
  });
  return { svg, height };
}

/** Lines of at most `width` characters, broken after "; ". */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of text.split('; ')) {
    const next = line === '' ? part : `${line}; ${part}`;
    if (next.length > width && line !== '') {
      lines.push(`${line};`);
      line = part;
    } else {
      line = next;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

export function toSvg(report: Report): string {
  const machineLines = wrap(describeSystem(report.system), 160).length;
  const legendY = 38 + machineLines * 13;
  const header = [
    `<text class="title" x="10" y="22">multiprocessing-bench: ${escapeXml(report.suites.map((s) => s.suite).join(', '))}</text>`,
    `<text class="machine" x="${WIDTH - 10}" y="22" text-anchor="end">mean time per operation, log scale: shorter is faster</text>`,
    ...wrap(describeSystem(report.system), 160).map((line, i) => `<text class="machine" x="10" y="${38 + i * 13}">${escapeXml(line)}</text>`),
    `<rect x="10" y="${legendY}" width="10" height="10" fill="${COLORS.ours}"/><text class="label" x="24" y="${legendY + 9}">ours</text>`,
    `<rect x="70" y="${legendY}" width="10" height="10" fill="${COLORS.peer}"/><text class="label" x="84" y="${legendY + 9}">peers</text>`,
    `<rect x="135" y="${legendY}" width="10" height="10" fill="${COLORS.floor}"/><text class="label" x="149" y="${legendY + 9}">C floor (the OS's own cost)</text>`,
  ];
  const top = legendY + 20;
  const bars = report.results.length > 0 ? barChart(report, top) : { svg: [], height: 0 };
  const curve = heapCurve(report, top + bars.height + 10);
  const height = top + bars.height + 10 + (curve?.height ?? 0) + 10;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${Math.ceil(height)}" viewBox="0 0 ${WIDTH} ${Math.ceil(height)}" font-family="system-ui, sans-serif">`,
    '<style>.title{font-size:15px;font-weight:600}.machine{font-size:11px;fill:#555}.group{font-size:12px;font-weight:600;fill:#111}' +
      '.label{font-size:11px;fill:#222}.value{font-size:10px;fill:#444}.axis{font-size:10px;fill:#666}.grid{stroke:#e5e7eb;stroke-width:1}</style>',
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...header,
    ...bars.svg,
    ...(curve?.svg ?? []),
    '</svg>',
    '',
  ].join('\n');
}
