import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/**
 * Whether webhook deliveries may reach `address`: only public unicast addresses, so a webhook URL cannot make the API
 * call the cloud's metadata service (169.254.169.254), the database's host or anything else on the private network.
 * An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/**
 * What is wrong with a webhook URL's host for a deployment that allows only public addresses, or null when nothing is:
 * a literal address or `localhost` is judged as written, a name by every address it resolves to now. A name that
 * does not resolve is left to the delivery, which checks again (`resolve: 'lenient'`), or refused (`'strict'`).
 */
export async function hostProblem(url: string, resolve: 'lenient' | 'strict'): Promise<string | null> {
  let host: string;
  try {
    // Brackets off an IPv6 literal; a trailing dot off a fully qualified name ("localhost." is localhost).
    host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  } catch {
    return 'is not a URL';
  }
  const refused = 'points at a private, loopback or link-local address; webhooks go to public addresses only (WEBHOOK_ALLOW_PRIVATE_ADDRESSES)';
  if (ipaddr.isValid(host)) return isPublicAddress(host) ? null : refused;
  if (host === 'localhost' || host.endsWith('.localhost')) return refused;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true, verbatim: true });
  } catch {
    return resolve === 'strict' ? `host ${host} does not resolve` : null;
  }
  return addresses.every((a) => isPublicAddress(a.address)) ? null : refused;
}
