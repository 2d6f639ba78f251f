import sharp from 'sharp';

/**
 * Benign generated test images: gradients, shapes and noise from a seeded generator. They
 * stand in for media in tests, benchmarks and the demo; nothing else is ever used.
 */

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    // xorshift32: fast, good enough for test pictures.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

export interface GeneratedImage {
  width: number;
  height: number;
  /** RGB, 3 bytes per pixel. */
  pixels: Buffer;
}

/** A picture of colour gradients and soft waves with filled circles and rectangles on it. */
export function shapesImage(seed: number, width = 320, height = 240): GeneratedImage {
  const random = seededRandom(seed);
  const pixels = Buffer.alloc(width * height * 3);
  const [r0, g0, b0, r1, g1, b1] = Array.from({ length: 6 }, () => Math.floor(random() * 256));
  const angle = random() * Math.PI * 2;
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  const waves = Array.from({ length: 2 }, () => ({ fx: (2 + random() * 10) * Math.PI * 2 / width, fy: (2 + random() * 10) * Math.PI * 2 / height, amplitude: 25 + random() * 35 }));
  const shapes = Array.from({ length: 8 + Math.floor(random() * 8) }, () => ({
    circle: random() < 0.5,
    x: random() * width,
    y: random() * height,
    size: (0.08 + random() * 0.25) * Math.min(width, height),
    colour: [random() * 255, random() * 255, random() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + ((x / width - 0.5) * dx + (y / height - 0.5) * dy)));
      const texture = waves.reduce((sum, wave) => sum + wave.amplitude * Math.sin(x * wave.fx + y * wave.fy), 0);
      let colour = [r0 + (r1 - r0) * t + texture, g0 + (g1 - g0) * t + texture, b0 + (b1 - b0) * t - texture];
      for (const shape of shapes) {
        const inside = shape.circle
          ? (x - shape.x) ** 2 + (y - shape.y) ** 2 < shape.size ** 2
          : Math.abs(x - shape.x) < shape.size && Math.abs(y - shape.y) < shape.size * 0.6;
        if (inside) colour = shape.colour;
      }
      const offset = (y * width + x) * 3;
      pixels[offset] = Math.max(0, Math.min(255, colour[0]));
      pixels[offset + 1] = Math.max(0, Math.min(255, colour[1]));
      pixels[offset + 2] = Math.max(0, Math.min(255, colour[2]));
    }
  }
  return { width, height, pixels };
}

/** Uniform random noise: a worst case for perceptual hashing and compression. */
export function noiseImage(seed: number, width = 256, height = 256): GeneratedImage {
  const random = seededRandom(seed);
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return { width, height, pixels };
}

/** One flat colour: PDQ rates such an image quality 0. */
export function flatImage(width = 128, height = 128, rgb: [number, number, number] = [120, 130, 140]): GeneratedImage {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i += 3) pixels.set(rgb, i);
  return { width, height, pixels };
}

export type EncodeFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff';

export async function encodeImage(image: GeneratedImage, format: EncodeFormat, quality = 90): Promise<Buffer> {
  const pipeline = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
  switch (format) {
    case 'png':
      return pipeline.png().toBuffer();
    case 'jpeg':
      return pipeline.jpeg({ quality }).toBuffer();
    case 'webp':
      return pipeline.webp({ quality }).toBuffer();
    case 'gif':
      return pipeline.gif().toBuffer();
    case 'tiff':
      return pipeline.tiff().toBuffer();
  }
}
