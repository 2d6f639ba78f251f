import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Meta's C++ PDQ reference (../shared/pdq-reference), built once into test/.tmp and run on
 * PPM/PGM files: the expected full-resolution hash of any generated picture, and its cost
 * beside ours in benchmarks. It is built here, never committed (build.sh compiles it with g++).
 */

const repoRoot = resolve(import.meta.dirname, '..', '..');
export const referenceDir = resolve(repoRoot, '..', 'shared', 'pdq-reference');
const buildDir = join(repoRoot, 'test', '.tmp', 'pdq-reference');

export interface ReferenceHash {
  file: string;
  hex: string;
  quality: number;
}

/** The path of the built `pdq-fullres` driver, building it on first use. */
export function referenceDriver(): string {
  const driver = join(buildDir, 'pdq-fullres');
  if (!existsSync(driver)) {
    mkdirSync(buildDir, { recursive: true });
    execFileSync('bash', [join(referenceDir, 'build.sh'), buildDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return driver;
}

/** Writes decoded 8-bit pixels (1, 3 or 4 channels; alpha dropped) as binary PGM or PPM. */
export function writePnm(path: string, data: Uint8Array, width: number, height: number, channels: number): void {
  const grey = channels < 3;
  const out = Buffer.alloc(width * height * (grey ? 1 : 3));
  if (grey) for (let i = 0; i < width * height; i++) out[i] = data[i * channels];
  else for (let i = 0; i < width * height; i++) for (let k = 0; k < 3; k++) out[i * 3 + k] = data[i * channels + k];
  writeFileSync(path, Buffer.concat([Buffer.from(`${grey ? 'P5' : 'P6'}\n${width} ${height}\n255\n`, 'ascii'), out]));
}

/** Runs the reference on PNM files; one result per file, in order. */
export function referenceHashes(files: string[]): ReferenceHash[] {
  const output = execFileSync(referenceDriver(), files, { encoding: 'utf8', maxBuffer: 16 << 20 });
  const results = output.trim().split('\n').map((line) => {
    const [file, hex, quality] = line.split('\t');
    return { file, hex, quality: Number(quality) };
  });
  if (results.length !== files.length) throw new Error(`the reference hashed ${results.length} of ${files.length} files`);
  return results;
}
