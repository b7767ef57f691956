import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedHosts, type DashboardBackend, LanDashboard } from '../../src-main/electron/lan-dashboard.ts';
import {
  dataCodewords,
  eccLayout,
  encodeQr,
  gfMultiply,
  maskBit,
  type QrCode,
  qrRows,
  rawDataModules,
} from '../../src-main/electron/qr.ts';
import { runShutdown } from '../../src-main/electron/shutdown.ts';

/** Reads the 15 format bits of copy 1 and returns [ecl bits, mask] after BCH check. */
function readFormat(code: QrCode): { ecl: number; mask: number; valid: boolean } {
  const m = code.modules;
  const bits: boolean[] = [];
  for (let i = 0; i <= 5; i++) bits[i] = m[i]![8]!;
  bits[6] = m[7]![8]!;
  bits[7] = m[8]![8]!;
  bits[8] = m[8]![7]!;
  for (let i = 9; i < 15; i++) bits[i] = m[8]![14 - i]!;
  const value = bits.reduce((acc, b, i) => acc | ((b ? 1 : 0) << i), 0) ^ 0x5412;
  const data = value >>> 10;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return { ecl: data >>> 3, mask: data & 7, valid: ((data << 10) | (rem & 0x3ff)) === value };
}

/** Reads the codewords back out of the matrix (unmasking), independent of the encoder's own state. */
function readCodewords(code: QrCode): number[] {
  const { size, modules, mask } = code;
  const reserved = (x: number, y: number) => {
    if ((x < 9 && y < 9) || (x >= size - 8 && y < 9) || (x < 9 && y >= size - 8)) return true;
    if (x === 6 || y === 6) return true;
    if (
      code.version >= 7 &&
      ((x >= size - 11 && x < size - 8 && y < 6) || (y >= size - 11 && y < size - 8 && x < 6))
    )
      return true;
    if (code.version >= 2) {
      const n = Math.floor(code.version / 7) + 2;
      const step = Math.floor((code.version * 8 + n * 3 + 5) / (n * 4 - 4)) * 2;
      const pos = [6];
      for (let p = size - 7; pos.length < n; p -= step) pos.splice(1, 0, p);
      for (const ax of pos)
        for (const ay of pos) {
          if ((ax === 6 && ay === 6) || (ax === 6 && ay === pos.at(-1)) || (ax === pos.at(-1) && ay === 6))
            continue;
          if (Math.abs(x - ax) <= 2 && Math.abs(y - ay) <= 2) return true;
        }
    }
    return false;
  };
  const bits: number[] = [];
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vert = 0; vert < size; vert++)
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const y = ((right + 1) & 2) === 0 ? size - 1 - vert : vert;
        if (!reserved(x, y)) bits.push((modules[y]![x]! !== maskBit(mask, x, y) ? 1 : 0) as number);
      }
  }
  const out: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8)
    out.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  return out.slice(0, Math.floor(rawDataModules(code.version) / 8));
}

/** De-interleaves and checks every block's Reed–Solomon syndromes are zero; returns the data bytes. */
function decode(code: QrCode): string {
  const codewords = readCodewords(code);
  const { blocks: nb, eccPerBlock } = eccLayout(code.version);
  const raw = Math.floor(rawDataModules(code.version) / 8);
  const numShort = nb - (raw % nb);
  const shortLen = Math.floor(raw / nb);
  const blocks: number[][] = Array.from({ length: nb }, () => []);
  let k = 0;
  for (let i = 0; i < shortLen + 1; i++)
    for (let j = 0; j < nb; j++) {
      // Short blocks have no byte at this index (the encoder's placeholder is skipped).
      if (i === shortLen - eccPerBlock && j < numShort) continue;
      blocks[j]!.push(codewords[k++]!);
    }
  let alpha = 1;
  const roots: number[] = [];
  for (let i = 0; i < eccPerBlock; i++) {
    roots.push(alpha);
    alpha = gfMultiply(alpha, 2);
  }
  const data: number[] = [];
  for (const block of blocks) {
    for (const r of roots) {
      const syndrome = block.reduce((acc, c) => gfMultiply(acc, r) ^ c, 0);
      assert.equal(syndrome, 0, 'Reed–Solomon syndrome must be zero');
    }
    data.push(...block.slice(0, block.length - eccPerBlock));
  }
  assert.equal(data.length, dataCodewords(code.version));
  // Byte mode: 4-bit mode, 8/16-bit count, then bytes.
  const bitstr = data.map((b) => b.toString(2).padStart(8, '0')).join('');
  assert.equal(bitstr.slice(0, 4), '0100');
  const countBits = code.version <= 9 ? 8 : 16;
  const count = Number.parseInt(bitstr.slice(4, 4 + countBits), 2);
  const bytes: number[] = [];
  for (let i = 0; i < count; i++)
    bytes.push(Number.parseInt(bitstr.slice(4 + countBits + i * 8, 12 + countBits + i * 8), 2));
  return new TextDecoder().decode(new Uint8Array(bytes));
}

test('QR: known capacities and structure (finder patterns, timing, format bits)', () => {
  assert.equal(dataCodewords(1), 16); // 1-M
  assert.equal(dataCodewords(10), 216); // 10-M
  assert.equal(dataCodewords(40), 2334); // 40-M
  const code = encodeQr('http://192.168.1.20:8001/#pair=abc');
  assert.equal(code.size, code.version * 4 + 17);
  for (const [fx, fy] of [
    [0, 0],
    [code.size - 7, 0],
    [0, code.size - 7],
  ] as const) {
    for (let i = 0; i < 7; i++) {
      assert.equal(code.modules[fy]![fx + i], true, 'finder top edge dark');
      assert.equal(code.modules[fy + 6]![fx + i], true, 'finder bottom edge dark');
    }
    assert.equal(code.modules[fy + 1]![fx + 1], false, 'finder inner ring light');
    assert.equal(code.modules[fy + 3]![fx + 3], true, 'finder centre dark');
  }
  for (let i = 8; i < code.size - 8; i++) assert.equal(code.modules[6]![i], i % 2 === 0, 'timing pattern');
  const format = readFormat(code);
  assert.equal(format.valid, true);
  assert.equal(format.ecl, 0, 'level M');
  assert.equal(format.mask, code.mask);
  assert.equal(code.modules[code.size - 8]![8], true, 'dark module');
});

test('QR: data round-trips through the matrix with valid Reed–Solomon blocks (v1 … v14)', () => {
  const token =
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsYW4tZGFzaGJvYXJkIiwic2NvcGUiOiJjb250cm9sIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
  for (const text of [
    'A',
    'hello',
    'http://127.0.0.1:8001/',
    `http://192.168.1.20:8001/#pair=${token}`,
    `x${'é'.repeat(120)}`,
  ]) {
    const code = encodeQr(text);
    assert.equal(decode(code), text, `round trip v${code.version}`);
  }
  assert.ok(
    encodeQr(`http://192.168.1.20:8001/#pair=${token}`).version >= 7,
    'exercises version info blocks',
  );
  assert.throws(() => encodeQr('x'.repeat(3000)), /too long/);
  const rows = qrRows(encodeQr('A'));
  assert.equal(rows.length, 21 + 8);
  assert.ok(rows.every((r) => r.length === 29 && /^[01]+$/.test(r)));
});

function fakeBackend() {
  const calls: string[] = [];
  let open = 0;
  const backend: DashboardBackend = {
    async start({ host, port }) {
      calls.push(`start ${host}:${port}`);
      open++;
      return {
        url: `http://${host}:8001/`,
        host,
        port: 8001,
        close: async () => {
          calls.push('close');
          open--;
        },
      };
    },
    async issuePairingToken() {
      return `token-${calls.length}`;
    },
  };
  return { backend, calls, open: () => open };
}

test("LAN toggle: loopback by default, only this machine's addresses, fresh token per start, events", async () => {
  const fake = fakeBackend();
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [{ address: '192.168.1.20', family: 'IPv4', internal: false }],
  };
  assert.deepEqual([...allowedHosts(interfaces)].sort(), ['127.0.0.1', '192.168.1.20', '::1']);
  const lan = new LanDashboard(fake.backend, () => interfaces);
  const seen: boolean[] = [];
  lan.onDidChange((s) => seen.push(s.running));
  const first = await lan.start();
  assert.equal(first.host, '127.0.0.1');
  assert.equal(first.running, true);
  assert.ok(first.qr);
  await assert.rejects(lan.start({ host: '0.0.0.0' }), /not an address of this machine/);
  await assert.rejects(lan.start({ host: '10.9.9.9' }), /not an address of this machine/);
  assert.equal(lan.status().running, true, 'a refused request leaves the running server alone');
  const second = await lan.start({ host: '192.168.1.20' });
  assert.equal(second.url, 'http://192.168.1.20:8001/');
  assert.notEqual(second.token, first.token, 'a fresh token per start');
  assert.equal(fake.open(), 1, 'restart closed the previous server');
  await lan.stop();
  assert.equal(fake.open(), 0);
  assert.equal(lan.status().token, null, 'the token is forgotten when off');
  assert.deepEqual(seen, [true, true, false]);
});

test('LAN toggle: a failing start reports the error and leaves nothing running', async () => {
  const lan = new LanDashboard(
    {
      start: async () => {
        throw new Error('EADDRINUSE');
      },
      issuePairingToken: async () => 't',
    },
    () => ({}),
  );
  await assert.rejects(lan.start(), /EADDRINUSE/);
  assert.deepEqual(
    { running: lan.status().running, error: lan.status().error },
    { running: false, error: 'EADDRINUSE' },
  );
});

test('quit sequence: steps run in order, a failing or hanging step does not stop the rest', async () => {
  const order: string[] = [];
  const logs: string[] = [];
  const results = await runShutdown(
    [
      { name: 'lan', run: () => order.push('lan') },
      {
        name: 'windows',
        run: () => {
          throw new Error('boom');
        },
      },
      { name: 'sessions', run: () => new Promise(() => {}) },
      { name: 'core', run: async () => order.push('core') },
    ],
    { stepTimeoutMs: 200, log: (m) => logs.push(m) },
  );
  assert.deepEqual(order, ['lan', 'core']);
  assert.deepEqual(
    results.map((r) => [r.name, r.ok]),
    [
      ['lan', true],
      ['windows', false],
      ['sessions', false],
      ['core', true],
    ],
  );
  assert.match(results[2]!.error!, /timed out/);
  assert.equal(logs.length, 2);
});
