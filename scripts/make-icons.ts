/**
 * Renders the app icons (web app manifest, favicon, Apple touch icon) from public/icons/icon.svg with
 * sharp (already installed with @huggingface/transformers). The PNGs are committed; run this again
 * (`npx tsx scripts/make-icons.ts`) only when the SVG changes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const publicDir = path.resolve(import.meta.dirname, '../public');
const svg = readFileSync(path.join(publicDir, 'icons/icon.svg'));
const ACCENT = '#3857d6';

async function png(size: number, options: { maskable?: boolean } = {}): Promise<Buffer> {
  if (!options.maskable) return sharp(svg, { density: 384 }).resize(size, size).png({ palette: true }).toBuffer();
  // Maskable: the artwork inside the 80 % safe zone on a full-bleed background.
  const inner = Math.round(size * 0.8);
  const art = await sharp(svg, { density: 384 }).resize(inner, inner).png().toBuffer();
  return sharp({ create: { width: size, height: size, channels: 4, background: ACCENT } })
    .composite([{ input: art, gravity: 'center' }])
    .png({ palette: true })
    .toBuffer();
}

/** An .ico holding one PNG image (every current browser reads PNG-in-ICO). */
function icoOf(image: Buffer, size: number): Buffer {
  const header = Buffer.alloc(22);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(1, 4); // one image
  header.writeUInt8(size, 6);
  header.writeUInt8(size, 7);
  header.writeUInt16LE(1, 10); // colour planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(image.length, 14);
  header.writeUInt32LE(22, 18); // offset of the image data
  return Buffer.concat([header, image]);
}

writeFileSync(path.join(publicDir, 'icons/icon-192.png'), await png(192));
writeFileSync(path.join(publicDir, 'icons/icon-512.png'), await png(512));
writeFileSync(path.join(publicDir, 'icons/maskable-512.png'), await png(512, { maskable: true }));
writeFileSync(path.join(publicDir, 'icons/apple-touch-icon.png'), await png(180));
writeFileSync(path.join(publicDir, 'favicon.ico'), icoOf(await png(32), 32));
