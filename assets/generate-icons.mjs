#!/usr/bin/env node
// Rasterises the AutoDev icon (same geometry as icon.svg) to PNGs at 16…1024 px and packs an .ico
// (PNG entries) and an .icns (PNG entries) — pure Node, no image tools needed, so it runs offline.
// Also writes the dashboard's web app icons (src-renderer/public/icons/: 192 and 512 px, a maskable
// 512 px with a full-bleed background, a 180 px apple-touch icon) and copies icon.svg beside them.
// Usage: node assets/generate-icons.mjs   (writes assets/icons/ and src-renderer/public/)
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'icons');
const SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

// Geometry in the 1024 design space (see icon.svg).
const hex = (h) => [1, 3, 5].map((i) => Number.parseInt(h.slice(i, i + 2), 16));
const TOP = hex('#2b3350');
const BOTTOM = hex('#141824');
const CHEVRON = hex('#7dd3fc');
const CURSOR = hex('#a78bfa');

function sdRoundRect(x, y, x0, y0, x1, y1, r) {
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const qx = Math.abs(x - cx) - ((x1 - x0) / 2 - r);
  const qy = Math.abs(y - cy) - ((y1 - y0) / 2 - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}
function sdSegment(x, y, ax, ay, bx, by) {
  const px = x - ax;
  const py = y - ay;
  const dx = bx - ax;
  const dy = by - ay;
  const h = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - dx * h, py - dy * h);
}

/** Colour (premultiplied-free RGBA) of one design-space point. `fullBleed`: no transparent corners
 *  (maskable icons: the platform cuts its own shape; the glyph sits inside the 80 % safe circle). */
function shade(x, y, fullBleed = false) {
  if (!fullBleed && sdRoundRect(x, y, 64, 64, 960, 960, 200) > 0) return [0, 0, 0, 0];
  const chevron = Math.min(sdSegment(x, y, 300, 340, 480, 512), sdSegment(x, y, 480, 512, 300, 684)) - 48;
  if (chevron <= 0) return [...CHEVRON, 255];
  if (sdRoundRect(x, y, 540, 636, 760, 732, 48) <= 0) return [...CURSOR, 255];
  const t = Math.min(1, Math.max(0, (y - 64) / 896));
  return [...TOP.map((c, i) => Math.round(c + (BOTTOM[i] - c) * t)), 255];
}

function render(size, fullBleed = false) {
  const ss = size <= 64 ? 8 : 4; // supersampling per axis: smooth edges at small sizes
  const px = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let pxx = 0; pxx < size; pxx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < ss; sy++)
        for (let sx = 0; sx < ss; sx++) {
          const [cr, cg, cb, ca] = shade(
            ((pxx + (sx + 0.5) / ss) / size) * 1024,
            ((py + (sy + 0.5) / ss) / size) * 1024,
            fullBleed,
          );
          r += cr * ca;
          g += cg * ca;
          b += cb * ca;
          a += ca;
        }
      const o = (py * size + pxx) * 4;
      px[o] = a ? Math.round(r / a) : 0;
      px[o + 1] = a ? Math.round(g / a) : 0;
      px[o + 2] = a ? Math.round(b / a) : 0;
      px[o + 3] = Math.round(a / (ss * ss));
    }
  }
  return png(size, size, px);
}

function crc32(buf) {
  return zlib.crc32(buf) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++)
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function ico(images) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(images.length, 4);
  const entries = [];
  let offset = 6 + 16 * images.length;
  for (const { size, data } of images) {
    const e = Buffer.alloc(16);
    e[0] = size >= 256 ? 0 : size;
    e[1] = size >= 256 ? 0 : size;
    e.writeUInt16LE(1, 4); // planes
    e.writeUInt16LE(32, 6); // bpp
    e.writeUInt32LE(data.length, 8);
    e.writeUInt32LE(offset, 12);
    offset += data.length;
    entries.push(e);
  }
  return Buffer.concat([header, ...entries, ...images.map((i) => i.data)]);
}

function icns(images) {
  const TYPES = { 16: 'icp4', 32: 'icp5', 64: 'icp6', 128: 'ic07', 256: 'ic08', 512: 'ic09', 1024: 'ic10' };
  const parts = images
    .filter(({ size }) => TYPES[size])
    .map(({ size, data }) => {
      const h = Buffer.alloc(8);
      h.write(TYPES[size], 0, 'ascii');
      h.writeUInt32BE(data.length + 8, 4);
      return Buffer.concat([h, data]);
    });
  const header = Buffer.alloc(8);
  header.write('icns', 0, 'ascii');
  header.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([header, ...parts]);
}

mkdirSync(path.join(out, 'png'), { recursive: true });
const images = SIZES.map((size) => ({ size, data: render(size) }));
for (const { size, data } of images) writeFileSync(path.join(out, 'png', `${size}x${size}.png`), data);
writeFileSync(path.join(out, 'icon.png'), images.find((i) => i.size === 1024).data);
writeFileSync(path.join(out, 'icon.ico'), ico(images.filter((i) => i.size <= 256)));
writeFileSync(path.join(out, 'icon.icns'), icns(images));
const web = path.join(here, '..', 'src-renderer', 'public');
mkdirSync(path.join(web, 'icons'), { recursive: true });
writeFileSync(path.join(web, 'icons', 'icon-192.png'), render(192));
writeFileSync(path.join(web, 'icons', 'icon-512.png'), images.find((i) => i.size === 512).data);
writeFileSync(path.join(web, 'icons', 'maskable-512.png'), render(512, true));
writeFileSync(path.join(web, 'icons', 'apple-touch-icon-180.png'), render(180, true));
copyFileSync(path.join(here, 'icon.svg'), path.join(web, 'icon.svg'));
console.log(
  `[icons] wrote ${SIZES.length} PNGs, icon.ico, icon.icns to ${path.relative(process.cwd(), out)}`,
);
