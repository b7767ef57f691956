import { networkInterfaces } from 'node:os';

/**
 * Host and Origin allow-lists (DNS rebinding and cross-site WebSocket hijacking defences). Both are
 * exact string matches built once the port is known: `Host: evil.example:8001` (a rebound name) is
 * answered 421, an Origin not on the list (or the literal `null`) 403.
 */
export class RequestGuards {
  private readonly _hosts: Set<string>;
  private readonly _origins: Set<string>;

  constructor(options: { bindHost: string; port: number; extraHosts?: string[]; extraOrigins?: string[] }) {
    const names = new Set<string>();
    const bind = options.bindHost.toLowerCase();
    if (isLoopback(bind) || bind === 'localhost') {
      names.add('127.0.0.1');
      names.add('localhost');
      names.add('[::1]');
    } else if (bind === '0.0.0.0' || bind === '::') {
      // Every local address this wildcard bind answers on.
      names.add('localhost');
      for (const list of Object.values(networkInterfaces())) {
        for (const address of list ?? [])
          names.add(address.family === 'IPv6' ? `[${address.address}]` : address.address);
      }
    } else {
      names.add(bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind);
    }
    for (const extra of options.extraHosts ?? []) names.add(extra.toLowerCase());
    this._hosts = new Set([...names].map((name) => withPort(name, options.port)));
    this._origins = new Set([...this._hosts].map((host) => `http://${host}`));
    for (const origin of options.extraOrigins ?? []) this._origins.add(origin);
  }

  /** The Host header must name this server exactly (host:port). */
  hostAllowed(host: string | undefined): boolean {
    return host !== undefined && this._hosts.has(host.toLowerCase());
  }

  /** 'missing' lets the caller decide (scripts send none); 'forbidden' covers `null` and foreign origins. */
  checkOrigin(origin: string | undefined): 'ok' | 'missing' | 'forbidden' {
    if (origin === undefined || origin === '') return 'missing';
    return this._origins.has(origin) ? 'ok' : 'forbidden';
  }

  get allowedHosts(): string[] {
    return [...this._hosts];
  }

  get allowedOrigins(): string[] {
    return [...this._origins];
  }
}

/** `name` as `host:port`, unless it already carries a port (`host:1234`, `[::1]:1234`). */
function withPort(name: string, port: number): string {
  if (/^\[[^\]]+\]:\d+$/.test(name) || /^[^:[\]]+:\d+$/.test(name)) return name;
  return `${name}:${port}`;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The peer address without the IPv4-mapped prefix, for per-IP limits. */
export function peerAddress(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}
