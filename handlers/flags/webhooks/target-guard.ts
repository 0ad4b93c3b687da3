import dns, { type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where webhooks may be sent. A webhook's URL is chosen by a user, and the worker that sends to it runs inside the
 * platform's network: left alone, "http://169.254.169.254/latest/meta-data/" or "http://10.0.3.7:6379/" would make it
 * a probe of that network (SSRF). So every address a target's host resolves to is checked — when the webhook is
 * saved and again at every connection, on the very address connected to (a name that resolves to a public address
 * when saved and to an internal one later, DNS rebinding, is caught) — against the internal ranges below, which only
 * WEBHOOK_ALLOWED_NETWORKS opens. WEBHOOK_ALLOWED_HOSTS, when set, narrows the hosts further.
 */

/** Loopback, private, link-local (cloud metadata), shared (CGNAT), multicast, reserved and documentation ranges. */
const internalRanges: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  // NAT64, 6to4 and Teredo carry an IPv4 address inside: one of them could reach an internal IPv4 network.
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['2001::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/** BlockList matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against IPv4 ranges too. */
const internal = new BlockList();
for (const [address, prefix, family] of internalRanges) internal.addSubnet(address, prefix, family);

export interface TargetPolicy {
  /** CIDRs or addresses opened although internal. */
  allowedNetworks: readonly string[];
  /** When set, the only hosts allowed (`*.example.com`: its subdomains). */
  allowedHosts?: readonly string[] | undefined;
}

/** Why a target is refused, in words a user can act on. */
export class TargetRefused extends Error {
  override name = 'TargetRefused';
}

type Resolve = (hostname: string) => Promise<LookupAddress[]>;

const resolveAll: Resolve = (hostname) =>
  new Promise((resolve, reject) =>
    dns.lookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

const familyOf = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** DNS answers that say the name does not exist, as opposed to a resolver that could not answer now. */
export const isNameNotFound = (error: unknown) =>
  error instanceof Error && ['ENOTFOUND', 'ENODATA', 'EAI_NONAME'].includes((error as NodeJS.ErrnoException).code ?? '');

export function createTargetGuard(policy: TargetPolicy, resolve: Resolve = resolveAll) {
  const opened = new BlockList();
  for (const entry of policy.allowedNetworks) {
    const [address = '', prefix] = entry.split('/');
    const family = familyOf(address);
    if (prefix === undefined) opened.addAddress(address, family);
    else opened.addSubnet(address, Number(prefix), family);
  }

  const hostAllowed = (host: string) =>
    !policy.allowedHosts ||
    policy.allowedHosts.some((pattern) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern));

  /** The address, if it may not be connected to. */
  function refusedAddress(address: string): string | undefined {
    const family = familyOf(address);
    return internal.check(address, family) && !opened.check(address, family) ? address : undefined;
  }

  function refusal(host: string, addresses: readonly string[]): TargetRefused | undefined {
    const refused = addresses.map(refusedAddress).find((a) => a !== undefined);
    if (refused === undefined) return undefined;
    const said = refused === host ? refused : `${host} (${refused})`;
    return new TargetRefused(
      `${said} is an internal address (loopback, private, link-local or reserved); webhooks are not sent there unless WEBHOOK_ALLOWED_NETWORKS opens it`,
    );
  }

  /** What is wrong with a URL before any DNS: its scheme, credentials in it, a host outside WEBHOOK_ALLOWED_HOSTS. */
  function checkUrl(url: URL): TargetRefused | undefined {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return new TargetRefused('Only http and https URLs can receive webhooks');
    if (url.username || url.password) return new TargetRefused('The URL must not carry credentials; the deliveries are signed instead');
    const host = hostOf(url);
    if (!hostAllowed(host)) return new TargetRefused(`${host} is not among the hosts WEBHOOK_ALLOWED_HOSTS allows`);
    return isIP(host) ? refusal(host, [host]) : undefined;
  }

  return {
    checkUrl,

    /**
     * Checks a URL and where its host resolves now (when a webhook is saved). A name that does not exist is refused;
     * a resolver that cannot answer throws its error, for the caller to report as a passing failure.
     */
    async check(url: URL): Promise<TargetRefused | undefined> {
      const refused = checkUrl(url);
      if (refused) return refused;
      const host = hostOf(url);
      if (isIP(host)) return undefined;
      try {
        return refusal(
          host,
          (await resolve(host)).map((a) => a.address),
        );
      } catch (error) {
        if (isNameNotFound(error)) return new TargetRefused(`${host} does not resolve to any address`);
        throw error;
      }
    },

    /**
     * A `lookup` for node:http(s) requests: resolves as usual and refuses the connection when any address is
     * internal, so the socket only ever opens to an address that was checked. (An IP literal skips `lookup`;
     * `checkUrl` covers it.)
     */
    lookup(
      hostname: string,
      options: dns.LookupOptions,
      callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
    ): void {
      resolve(hostname).then(
        (addresses) => {
          const refused = refusal(
            hostname,
            addresses.map((a) => a.address),
          );
          if (refused) return callback(refused, '');
          const usable = options.family ? addresses.filter((a) => a.family === options.family) : addresses;
          if (usable.length === 0)
            return callback(Object.assign(new Error(`${hostname} has no address of the family asked`), { code: 'ENOTFOUND' }), '');
          if (options.all) return callback(null, usable);
          callback(null, usable[0]!.address, usable[0]!.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, ''),
      );
    },
  };
}

export type TargetGuard = ReturnType<typeof createTargetGuard>;

/** The host of a URL as a resolver and `isIP` take it: an IPv6 literal without its brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');
