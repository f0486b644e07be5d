import { AsyncLocalStorage } from 'node:async_hooks';
import { lookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, buildConnector, Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { ConfigError } from '../config/load.ts';

/** Addresses a download may not reach unless allowed: loopback, link-local, private, unspecified, … */
const restricted: { name: string; subnets: [string, number, 'ipv4' | 'ipv6'][] }[] = [
  {
    name: 'unspecified',
    subnets: [
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  },
  {
    name: 'loopback',
    subnets: [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  },
  {
    name: 'link-local',
    subnets: [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ],
  },
  {
    name: 'private',
    subnets: [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'],
      ['192.0.0.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
    ],
  },
  {
    name: 'multicast or reserved',
    subnets: [
      ['224.0.0.0', 4, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ],
  },
].map(({ name, subnets }) => ({ name, subnets: subnets as [string, number, 'ipv4' | 'ipv6'][] }));

const restrictedLists = restricted.map(({ name, subnets }) => {
  const list = new BlockList();
  for (const [network, prefix, family] of subnets) list.addSubnet(network, prefix, family);
  return { name, list };
});

/** A download that would connect where it may not; its message names the host, never what answers there. */
export class DownloadTargetRefusedError extends Error {
  override readonly name = 'DownloadTargetRefusedError';
  constructor(host: string, kind: string) {
    super(
      `refused to connect to ${host}: it is a ${kind} address ` +
        '(downloads.allowPrivateNetworks lists the networks downloads may reach)',
    );
  }
}

/** Which download an outgoing connection belongs to, so a refusal ends that download at once. */
interface GuardScope {
  agent: Dispatcher;
  refused(error: DownloadTargetRefusedError): void;
}
const scopes = new AsyncLocalStorage<GuardScope>();

/**
 * fetch (which the downloader, ipull, calls) sends through the global dispatcher: this one sends what a
 * guarded download asks for through that download's guard, and everything else where it went before.
 */
class ScopedDispatcher extends Dispatcher {
  constructor(private readonly fallback: Dispatcher) {
    super();
  }
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    return (scopes.getStore()?.agent ?? this.fallback).dispatch(options, handler);
  }
}

let installed = false;
function installScopedDispatcher(): void {
  if (installed) return;
  installed = true;
  setGlobalDispatcher(new ScopedDispatcher(getGlobalDispatcher()));
}

/**
 * The SSRF guard of downloads. Every connection a download opens (the first URL and every redirect hop,
 * each chunk) goes through an agent of its own whose connector checks the address it is about to connect
 * to: IP literals as given (every spelling the URL parser accepts ends up as one), host names after DNS
 * resolution, refused if any address they resolve to is restricted and not allowed. The address checked is
 * the one connected to, so a second DNS answer cannot differ.
 */
export class DownloadGuard {
  readonly #allowed = new BlockList();
  readonly #agent: Agent;

  constructor(allowPrivateNetworks: readonly string[]) {
    for (const entry of allowPrivateNetworks) addAllowed(this.#allowed, entry);
    const connectTcp = buildConnector({
      lookup: (host, options, callback) => this.#lookup(host, options, callback),
    });
    this.#agent = new Agent({
      connect: (options, callback) => {
        const host = options.hostname.replace(/^\[|\]$/g, '');
        const refusal = isIP(host) ? this.#refusal(host, host) : undefined;
        if (refusal) {
          scopes.getStore()?.refused(refusal);
          return void callback(refusal, null);
        }
        connectTcp(options, callback);
      },
    });
  }

  /** Runs `work` with its connections guarded; `refused` is told of the first connection refused. */
  run<T>(refused: (error: DownloadTargetRefusedError) => void, work: () => Promise<T>): Promise<T> {
    installScopedDispatcher();
    return scopes.run({ agent: this.#agent, refused }, work);
  }

  /** Ends its connections at once (a stop does not wait for downloads the downloader still retries). */
  close(): Promise<void> {
    return this.#agent.destroy();
  }

  #refusal(host: string, address: string): DownloadTargetRefusedError | undefined {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (this.#allowed.check(address, family)) return undefined;
    const kind = restrictedLists.find(({ list }) => list.check(address, family))?.name;
    return kind ? new DownloadTargetRefusedError(host, kind) : undefined;
  }

  #lookup(
    host: string,
    options: { family?: number | string; hints?: number; all?: boolean },
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void {
    lookup(host, { ...options, all: true } as { all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      for (const { address } of addresses) {
        const refusal = this.#refusal(host, address);
        if (refusal) {
          scopes.getStore()?.refused(refusal);
          return callback(refusal, []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  }
}

function addAllowed(list: BlockList, entry: string): void {
  const [address = '', prefix] = entry.split('/');
  const family = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : undefined;
  const bits = prefix === undefined ? (family === 'ipv6' ? 128 : 32) : Number(prefix);
  if (!family || !Number.isInteger(bits) || bits < 0 || bits > (family === 'ipv6' ? 128 : 32)) {
    throw new ConfigError('downloads.allowPrivateNetworks', `'${entry}' is not an IP address or CIDR`);
  }
  list.addSubnet(address, bits, family);
}
