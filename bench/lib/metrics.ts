/** A service's Prometheus text, from its /metrics. */
export async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** The sum of a Prometheus metric's series whose labels include every one given (in any order). */
export function metricOf(text: string, name: string, ...labels: string[]): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (!labels.every((label) => rest.includes(label))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
