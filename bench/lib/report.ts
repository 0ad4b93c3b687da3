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
