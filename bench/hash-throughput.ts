/**
 * PDQ hashing beside a plain decode and beside Meta's C++ reference, on the same files, in
 * one run.
 *
 *   npm run bench:hash -- [--runs 5] [--pool-seconds 1.5]
 *
 * Files: the shared PDQ vectors' photos (1600x1004 and small JPEGs, the RGBA c.png) and
 * benign generated pictures (gradients and shapes drawn small, scaled up, with sensor-like
 * noise) at 640x480, 1080x1350, 1920x1080 and 4032x3024, each as JPEG and as PNG.
 *
 * Table 1, per image, on one core (sharp.concurrency(1), libvips' cache off, every call
 * awaited alone), the median of --runs rounds after a warm-up; within a round the steps run
 * one after the other (A/B interleaved), so a slow spell of this machine slows all of them:
 *
 *   decode         sharp's plain decode to raw 8-bit pixels, with the input options
 *                  pdqFromImage uses (first page, embedded ICC profile ignored);
 *   decode+PDQ     pdqFromImage: header check, the same decode, then PDQ;
 *   PDQ            Bulwark's PDQ step alone (luma + blur + DCT + bits) on the decoded pixels,
 *                  repeated within a round on small images (median repeat);
 *   ref PDQ        Meta's reference doing the same step on the same pixels:
 *                  fillFloatLumaFromRGB + pdqHash256FromFloatLuma, compiled from the unchanged
 *                  sources in ../shared/pdq-reference with build.sh's flags (g++ -O2), driven
 *                  by bench/pdq-reference-timing.cpp, which reads the pixels (as PPM) once,
 *                  allocates its buffers once, and times as many repeats after an untimed
 *                  warm-up (median repeat).
 *
 * Why not time the `pdq-fullres` driver itself: its time per file (hashing the same PPM N
 * times in one invocation, minus a 1-file run) is mostly not PDQ. It allocates two fresh
 * float images per file, and perf record on it at 1920x1080 put about a third of the
 * samples in memset and a quarter in the kernel's page faults, against a fifth in the box
 * filter: charging that to the reference would flatter Bulwark. Timing the same library
 * calls in process, warm, is the reference's PDQ step and nothing else.
 *
 * The `bits` column checks exactness in the same run: pdq-fullres hashes every file's
 * decoded pixels (written as PPM), and the distance from Bulwark's pdqFromImage hash must be
 * 0 (and the qualities equal); the timing build must print the same hash.
 *
 * Table 2 is throughput through Bulwark's own hashing pool (src/signals/hashing/worker-pool.ts),
 * as the server hashes uploads (PDQ, MD5 and SHA-256, the bytes copied to a thread): one
 * worker, then one per core, with two jobs per worker in flight for about --pool-seconds, in
 * alternating rounds; the median of the rounds. Tables 1 and 2 run minutes
 * apart: on a machine whose speed drifts, compare within a table, not across.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { seededRandom, shapesImage } from '../src/demo/benign-images.ts';
import { hamming256, hash256ToHex, hexToHash256 } from '../src/signals/pdq/hash256.ts';
import { WorkerPoolHashing } from '../src/signals/hashing/worker-pool.ts';
import { decodePixelsForPdq, pdqFromImage } from '../src/signals/pdq/image.ts';
import { pdqFromPixels } from '../src/signals/pdq/pdq.ts';
import { referenceDir, referenceHashes, writePnm } from '../test/helpers/pdq-reference.ts';

sharp.concurrency(1);
sharp.cache(false);

/** The decode options pdqFromImage passes to sharp (src/signals/pdq/image.ts). */
const decodeOptions = { failOn: 'error', pages: 1, ignoreIcc: true, limitInputPixels: 50_000_000 } as const;
const plainDecode = (bytes: Uint8Array) => sharp(bytes, decodeOptions).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });

await main();

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'pool-seconds': { type: 'string', default: '1.5' } } });
  const runs = Math.max(1, Number(values.runs));
  const poolMilliseconds = Math.max(100, 1000 * Number(values['pool-seconds']));
  const cores = availableParallelism();

  interface Sample {
    name: string;
    bytes: Buffer;
  }

  /** A photo-like benign picture: shapes and gradients drawn small, scaled up, with sensor-like noise. */
  async function generated(width: number, height: number): Promise<Sample[]> {
    const drawn = shapesImage(width + height, Math.ceil(width / 4), Math.ceil(height / 4));
    const pixels = await sharp(drawn.pixels, { raw: { width: drawn.width, height: drawn.height, channels: 3 } }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
    const random = seededRandom(width * height);
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.max(0, Math.min(255, pixels[i] + Math.round((random() - 0.5) * 24)));
    const raw = () => sharp(pixels, { raw: { width, height, channels: 3 } });
    return [
      { name: `generated ${width}x${height} jpeg`, bytes: await raw().jpeg({ quality: 88 }).toBuffer() },
      { name: `generated ${width}x${height} png`, bytes: await raw().png().toBuffer() },
    ];
  }

  const vectors = resolve(import.meta.dirname, '..', '..', 'shared', 'pdq-vectors');
  const vectorFiles = ['reg-test-input/dih/bridge-1-original.jpg', 'bridge-mods/shrink-a-little.jpg', 'misc-images/small.jpg', 'reg-test-input/labelme-subset/q0122.jpg', 'misc-images/wee.jpg', 'misc-images/c.png'];

  const median = (list: number[]) => {
    const sorted = [...list].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const perSecond = (value: number) => value.toFixed(value < 10 ? 1 : 0);

  function table(title: string, header: string[], rows: string[][]): void {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
    console.log(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
    for (const row of rows) console.log(line(row));
  }

  /** Builds the in-process timing of Meta's reference (see the header) next to pdq-fullres, once. */
  function referenceTiming(): string {
    const dir = resolve(import.meta.dirname, '..', 'test', '.tmp', 'pdq-reference');
    const binary = join(dir, 'pdq-reference-timing');
    const source = resolve(import.meta.dirname, 'pdq-reference-timing.cpp');
    const cpp = join(referenceDir, 'src', 'pdq', 'cpp');
    if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
      mkdirSync(dir, { recursive: true });
      const library = ['hashing/pdqhashing.cpp', 'hashing/torben.cpp', 'downscaling/downscaling.cpp', 'common/pdqhashtypes.cpp', 'common/pdqhamming.cpp', 'common/pdqutils.cpp'];
      execFileSync('g++', ['-O2', '-std=c++14', `-I${join(referenceDir, 'src')}`, source, ...library.map((file) => join(cpp, file)), '-o', binary], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    return binary;
  }

  const gccVersion = execFileSync('g++', ['-dumpfullversion'], { encoding: 'utf8' }).trim();
  console.log(`PDQ hash throughput: node ${process.version}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores`);
  console.log(`Table 1: one core, median of ${runs} interleaved rounds after a warm-up; reference: Meta's C++ built with g++ ${gccVersion} -O2`);

  const samples: Sample[] = [];
  for (const file of vectorFiles) samples.push({ name: `vector ${file.split('/').pop()}`, bytes: readFileSync(resolve(vectors, file)) });
  for (const [width, height] of [[640, 480], [1080, 1350], [1920, 1080], [4032, 3024]]) samples.push(...(await generated(width, height)));

  // One long-lived reference process, asked per round over stdin: forking a child per round
  // would slow the next decode here (copy-on-write faults), which is not what is measured.
  const timingProcess = spawn(referenceTiming(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answers = createInterface({ input: timingProcess.stdout! })[Symbol.asyncIterator]();
  const timeReference = async (repeats: number, ppm: string) => {
    timingProcess.stdin!.write(`${repeats} ${ppm}\n`);
    const answer = await answers.next();
    if (answer.done) throw new Error('the reference timing process stopped');
    return answer.value;
  };
  const scratch = mkdtempSync(join(tmpdir(), 'bulwark-pdq-bench-'));
  try {
    // The decoded pixels of every file, as PPM for the reference, and its hashes of them.
    const decoded = [];
    for (const [i, sample] of samples.entries()) {
      const { pixels, grey } = await decodePixelsForPdq(sample.bytes);
      const ppm = join(scratch, `${i}.ppm`);
      writePnm(ppm, pixels.data, pixels.width, pixels.height, pixels.channels);
      decoded.push({ pixels, grey, ppm });
    }
    const reference = referenceHashes(decoded.map((d) => d.ppm));

    // Warm the JIT on every path first, so that the first image is not charged for it.
    for (let i = 0; i < 3; i++) {
      for (const [k, sample] of samples.entries()) {
        if (decoded[k].pixels.width * decoded[k].pixels.height > 3_000_000) continue;
        await plainDecode(sample.bytes);
        await pdqFromImage(sample.bytes);
        pdqFromPixels(decoded[k].pixels, { grey: decoded[k].grey });
      }
    }

    const rows: string[][] = [];
    for (const [k, sample] of samples.entries()) {
      const { pixels, grey, ppm } = decoded[k];
      const times = { decode: [] as number[], pipeline: [] as number[], pdq: [] as number[], reference: [] as number[] };
      let referenceHex = '';
      // Small images: both PDQ steps are repeated within a round and the median repeat taken.
      const repeats = Math.min(25, Math.max(2, Math.round(500_000 / (pixels.width * pixels.height))));
      for (let round = -1; round < runs; round++) {
        let start = performance.now();
        await plainDecode(sample.bytes);
        const decode = performance.now() - start;
        start = performance.now();
        await pdqFromImage(sample.bytes);
        const pipeline = performance.now() - start;
        const pdqRepeats: number[] = [];
        for (let i = 0; i < repeats; i++) {
          start = performance.now();
          pdqFromPixels(pixels, { grey });
          pdqRepeats.push(performance.now() - start);
        }
        const pdq = median(pdqRepeats);
        const [hex, , list] = (await timeReference(repeats, ppm)).trim().split('\t');
        referenceHex = hex;
        if (round < 0) continue;
        times.decode.push(decode);
        times.pipeline.push(pipeline);
        times.pdq.push(pdq);
        times.reference.push(median(list.split(',').map(Number)));
      }
      const ours = await pdqFromImage(sample.bytes);
      const bits = hamming256(ours.hash, hexToHash256(reference[k].hex));
      const check = [
        bits === 0 ? '' : 'HASH DIFFERS',
        ours.quality === reference[k].quality ? '' : `quality ${ours.quality} vs ${reference[k].quality}`,
        referenceHex === reference[k].hex ? '' : 'timing build differs',
      ].filter(Boolean);
      const [decode, pipeline, pdq, referencePdq] = [times.decode, times.pipeline, times.pdq, times.reference].map(median);
      rows.push([
        sample.name,
        `${pixels.width}x${pixels.height}`,
        ms(decode),
        ms(pipeline),
        ratio(pipeline, decode),
        ms(pdq),
        ms(referencePdq),
        ratio(pdq, referencePdq),
        String(bits),
        `${ours.quality}${check.length ? ` ${check.join(', ')}` : ''}`,
      ]);
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    table(
      'Table 1. Per image on one core: sharp decode, Bulwark decode+PDQ and PDQ step, the reference C++ PDQ step on the same pixels',
      ['image', 'pixels', 'decode ms', 'decode+PDQ ms', '/ decode', 'PDQ ms', 'ref PDQ ms', 'PDQ / ref', 'bits', 'quality'],
      rows,
    );

    // Table 2: throughput through Bulwark's own hashing pool, as the server runs it.
    async function pool(workers: number, bytes: Buffer): Promise<number> {
      const hashing = new WorkerPoolHashing({ workers, maxQueue: workers * 2 });
      try {
        // Warm every thread (start-up, JIT, WebAssembly) before timing.
        await Promise.all(Array.from({ length: workers * 3 }, () => hashing.hash('photo', bytes)));
        let count = 0;
        const start = performance.now();
        // Keep two jobs per thread in flight, as a busy server's queue would, until the time is up.
        const lane = async () => {
          while (performance.now() - start < poolMilliseconds) {
            await hashing.hash('photo', bytes);
            count++;
          }
        };
        await Promise.all(Array.from({ length: workers * 2 }, lane));
        return (1000 * count) / (performance.now() - start);
      } finally {
        await hashing.close();
      }
    }
    const poolRows: string[][] = [];
    const poolSamples = samples.filter((s) => /bridge-1|640x480 jpeg|1920x1080|4032x3024 jpeg/.test(s.name));
    const poolRounds = Math.min(runs, 3);
    for (const sample of poolSamples) {
      const one: number[] = [];
      const all: number[] = [];
      for (let round = 0; round < poolRounds; round++) {
        one.push(await pool(1, sample.bytes));
        all.push(await pool(cores, sample.bytes));
      }
      const [single, many] = [median(one), median(all)];
      poolRows.push([sample.name, perSecond(single), perSecond(many), ratio(many, single)]);
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    table(
      `Table 2. decode+PDQ (with MD5 and SHA-256, as an upload) images/s through Bulwark's worker pool (median of ${poolRounds} alternating rounds of ~${poolMilliseconds / 1000} s)`,
      ['image', '1 worker', `${cores} workers`, 'speed-up'],
      poolRows,
    );
    timingProcess.stdin!.end();
    const mismatches = rows.filter((row) => row[8] !== '0' || row[9].includes(' '));
    console.log(mismatches.length ? `\n${mismatches.length} file(s) differ from the reference` : `\nAll ${rows.length} hashes and qualities equal the reference's (${hash256ToHex(hexToHash256(reference[0].hex)).slice(0, 8)}… for the first).`);
    if (mismatches.length) process.exitCode = 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
