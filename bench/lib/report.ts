/** What every benchmark prints first: the machine, the software, the date and how busy the machine was. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { loadAverage } from './processes.ts';

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const memory = `${Math.round(os.totalmem() / 2 ** 30)} GiB`;
  let distro = '';
  try {
    distro = /PRETTY_NAME="([^"]+)"/.exec(execFileSync('cat', ['/etc/os-release'], { encoding: 'utf8' }))?.[1] ?? '';
  } catch {
    // not Linux
  }
  return `${os.availableParallelism()} cores (${cpu}), ${memory}, ${distro || os.platform()}, node ${process.version}`;
}

export function loadLine(): string {
  const { one, cores } = loadAverage();
  // The benchmark's own processes make about 1–1.5 of it; more than the number of cores means someone else is busy.
  return `load average ${one.toFixed(2)} on ${cores} cores${one > cores ? ' — the machine is busy; figures may be low' : ''}`;
}

export function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

export function target(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/**
 * One figure an issue asks for, with its target: every part returns its figures, and `npm run bench` ends with all
 * of them in one table (met / MISSED / reported when there is no target).
 */
export interface Figure {
  /** What was measured, e.g. "evaluation RSS idle". */
  name: string;
  /** The measurement with its unit, e.g. "74 MB". */
  value: string;
  /** The target in words, e.g. "≤ 80 MB"; undefined for a figure reported without one. */
  target?: string;
  met?: boolean;
}

export function printFigures(figures: Figure[]): void {
  const rows = figures.map((f) => [f.name, f.value, f.target ?? '—', f.met === undefined ? 'reported' : target(f.met)]);
  const header = ['figure', 'measured', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}
