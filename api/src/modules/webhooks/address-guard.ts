import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

/**
 * Whether webhook deliveries may reach `address`: only public unicast addresses, so a webhook URL cannot make the API
 * call the cloud's metadata service (169.254.169.254), the database's host or anything else on the private network.
 * An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** A host name's addresses now (the system resolver by default; tests give one that changes its answer). */
export type ResolveHost = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemResolve: ResolveHost = (host) => lookup(host, { all: true, verbatim: true });

export const REFUSED_ADDRESS =
  'points at a private, loopback or link-local address; webhooks go to public addresses only (WEBHOOK_ALLOW_PRIVATE_ADDRESSES)';

/**
 * What is wrong with a webhook URL's host for a deployment that allows only public addresses, or null when nothing is:
 * a literal address or `localhost` is judged as written, a name by every address it resolves to now. A name that
 * does not resolve is left to the delivery, which checks again (`resolve: 'lenient'`), or refused (`'strict'`).
 */
export async function hostProblem(url: string, mode: 'lenient' | 'strict', resolve: ResolveHost = systemResolve): Promise<string | null> {
  let host: string;
  try {
    // Brackets off an IPv6 literal; a trailing dot off a fully qualified name ("localhost." is localhost).
    host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  } catch {
    return 'is not a URL';
  }
  if (ipaddr.isValid(host)) return isPublicAddress(host) ? null : REFUSED_ADDRESS;
  if (host === 'localhost' || host.endsWith('.localhost')) return REFUSED_ADDRESS;
  let addresses: { address: string }[];
  try {
    addresses = await resolve(host);
  } catch {
    return mode === 'strict' ? `host ${host} does not resolve` : null;
  }
  return addresses.every((a) => isPublicAddress(a.address)) ? null : REFUSED_ADDRESS;
}

/**
 * An HTTP agent whose connections resolve their host through `resolve` and connect only if every address is public:
 * the check and the connection use one answer, so a name that resolves elsewhere after `hostProblem` looked (DNS
 * rebinding) reaches nothing. A literal address is not looked up; `hostProblem` judges it first.
 */
export function publicOnlyAgent(resolve: ResolveHost = systemResolve): Agent {
  const guardedLookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const usable = addresses.filter((a) => !options.family || a.family === options.family);
        if (usable.length === 0 || !usable.every((a) => isPublicAddress(a.address))) {
          callback(new Error(REFUSED_ADDRESS), '', 0);
        } else if (options.all) {
          (callback as unknown as (err: null, addresses: { address: string; family: number }[]) => void)(null, usable);
        } else {
          callback(null, usable[0].address, usable[0].family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
  return new Agent({ connect: { lookup: guardedLookup } });
}
