// Where deliveries may go (docs/webhooks.md, docs/security.md): HTTPS only, and never to private,
// loopback, link-local, cloud-metadata or other special ranges, unless the operator's allow-list
// (webhookAllowTargets) names the target. Names are resolved when connecting and the address
// actually connected to is checked again, so DNS answers changing after a check gain nothing.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const REFUSED_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
const REFUSED_V6 = [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64], ['2001::', 23],
] as const;

const refused = new BlockList();
for (const [net, prefix] of REFUSED_V4) refused.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of REFUSED_V6) refused.addSubnet(net, prefix, 'ipv6');

/** An IPv4 address hidden in an IPv6 one (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96), else undefined. */
function embeddedV4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether an address is in a range deliveries never reach by default. */
export function isRefusedAddress(address: string): boolean {
  const v4 = embeddedV4(address);
  if (v4) return refused.check(v4, 'ipv4');
  const family = isIP(address);
  if (family === 4) return refused.check(address, 'ipv4');
  if (family === 6) return refused.check(address, 'ipv6');
  return true; // not an address at all
}

/** The operator's allow-list: host names, host:port, addresses and CIDR ranges. */
export class TargetPolicy {
  private readonly hosts = new Set<string>();
  private readonly ranges = new BlockList();
  private hasRanges = false;

  constructor(allow: readonly string[]) {
    for (const raw of allow) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
      const family = cidr ? isIP(cidr[1]!) : 0;
      if (cidr && family) {
        this.ranges.addSubnet(cidr[1]!, Number(cidr[2]), family === 4 ? 'ipv4' : 'ipv6');
        this.hasRanges = true;
      } else {
        this.hosts.add(entry.replace(/^\[(.*)\]$/, '$1'));
        if (isIP(entry)) {
          this.ranges.addAddress(entry, isIP(entry) === 4 ? 'ipv4' : 'ipv6');
          this.hasRanges = true;
        }
      }
    }
  }

  /** Whether the URL's host (or host:port) is named by the allow-list. */
  namesHost(url: URL): boolean {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return this.hosts.has(host) || this.hosts.has(`${host}:${port}`) || (isIP(host) > 0 && this.addressAllowed(host));
  }

  private addressAllowed(address: string): boolean {
    if (!this.hasRanges) return false;
    const v4 = embeddedV4(address) ?? (isIP(address) === 4 ? address : undefined);
    return v4 ? this.ranges.check(v4, 'ipv4') : this.ranges.check(address, 'ipv6');
  }

  /** Whether a delivery to `url` may connect to `address`. */
  mayConnect(url: URL, address: string): boolean {
    return !isRefusedAddress(address) || this.namesHost(url) || this.addressAllowed(address);
  }

  /** Why a subscription URL is refused, or undefined when it may be used. */
  checkUrl(text: string): string | undefined {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'the URL is not a valid absolute URL';
    }
    if (url.username || url.password) return 'the URL must not carry credentials';
    if (url.hash) return 'the URL must not have a fragment';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.namesHost(url))) return 'the URL must use https (plain http only for targets the webhookAllowTargets setting names)';
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) && !this.mayConnect(url, host)) return `the address ${host} is in a private, loopback, link-local or reserved range (allow it with webhookAllowTargets)`;
    if (/^(localhost|.*\.localhost|.*\.internal|metadata\.google\.internal)$/i.test(host) && !this.namesHost(url)) return `the host ${host} is internal (allow it with webhookAllowTargets)`;
    return undefined;
  }

  /**
   * A `lookup` for http(s).request: resolves the name, drops refused addresses and fails when none
   * is left, so the connection only ever goes to a checked address.
   */
  lookupFor(url: URL) {
    return (hostname: string, options: { family?: number | string; all?: boolean } & Record<string, unknown>, callback: (...args: any[]) => void): void => {
      dnsLookup(hostname, { all: true, family: Number(options.family) || 0 }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err);
        const ok = addresses.filter((a) => this.mayConnect(url, a.address));
        if (ok.length === 0) {
          const e = Object.assign(new Error(`${hostname} resolves only to refused addresses (${addresses.map((a) => a.address).join(', ')})`), { code: 'EREFUSEDTARGET' });
          return callback(e);
        }
        if (options.all) return callback(null, ok);
        callback(null, ok[0]!.address, ok[0]!.family);
      });
    };
  }
}
