// Assembles the project's hand-written WebAssembly (src/signals/pdq/jarosz.wat) with wabt's
// wat2wasm, a devDependency, into the committed jarosz.wasm:
//
//   node --import tsx scripts/assemble-wasm.ts
//
// Run it after editing the .wat; test/pdq-speed-paths.test.ts checks the two agree byte for byte.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import initWabt from 'wabt';

export const wasmSources = [new URL('../src/signals/pdq/jarosz.wat', import.meta.url)];

/** The binary of one .wat file: SIMD enabled, no names section, so the output is stable. */
export async function assembleWat(source: URL): Promise<Buffer> {
  const wabt = await initWabt();
  const module = wabt.parseWat(fileURLToPath(source), readFileSync(source, 'utf8'), { simd: true });
  try {
    module.validate();
    return Buffer.from(module.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const source of wasmSources) {
    const target = new URL(source.href.replace(/\.wat$/, '.wasm'));
    const binary = await assembleWat(source);
    writeFileSync(target, binary);
    console.log(`${fileURLToPath(target)}: ${binary.length} bytes`);
  }
}
