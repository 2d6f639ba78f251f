import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { type Bulwark, openBulwark } from '../../app.ts';
import { type ReceivedAction, describeAction, startDemoPlatform } from '../../demo/demo-platform.ts';
import { DEMO_NOTICE_LOCATION_PATTERNS, SEED_STAGES, activateDemoRules, demoMediaKey, seedBank, seedNetworkDemo, seedReviewDemo } from '../../demo/demo-seed.ts';
import { locationPatternsFromEnv } from '../../legal/notices.ts';
import { ncmecConfigFromEnv } from '../../reporting/ncmec/config.ts';
import { hashingConfigFromEnv, videoConfigFromEnv } from '../context.ts';
import { demoTour } from '../demo-tour.ts';
import { stageProgress } from '../stage-progress.ts';
import { type ServeOptions, assertPortFree, hashingWithFlags, serve, serveOptions } from './serve.ts';

/**
 * The demo: seeds an embedded store with generated data (a bank of benign pictures, a
 * synthetic platform with planted networks, uploads and a report), starts the server, and
 * prints a short guided tour. It says what each part is before showing its output, keeps
 * the request log to warnings (BULWARK_LOG_LEVEL still wins), and names its data folder
 * and the flags that reach it from the command line.
 */
export function demoCommand(program: Command): void {
  serveOptions(program.command('demo').description('start Bulwark on the embedded store with generated demo data, and print a guided tour'))
    .option('--dir <dir>', 'folder for the demo store and sample images', '.bulwark/demo')
    .action(async (options: ServeOptions & { dir: string }) => {
      const dir = resolve(options.dir);
      await assertPortFree(options);
      await mkdir(dir, { recursive: true });
      const started = performance.now();
      process.stderr.write(
        `Bulwark demo: a guided tour on made-up data (generated pictures, a synthetic platform).\n` +
          `  data folder: ${dir}\n  loading (about 2 minutes the first time; later runs reuse the folder):\n`,
      );
      // Until the tour is printed, what the stand-in platform receives is kept for the tour's enforcement part.
      const received: ReceivedAction[] = [];
      let touring = false;
      const webhookSecret = randomBytes(24).toString('base64url');
      const platform = await startDemoPlatform(
        webhookSecret,
        (action) => (touring ? process.stderr.write(`demo platform received: ${describeAction(action)}\n`) : received.push(action)),
        (line) => process.stderr.write(`${line}\n`),
      );
      const progress = stageProgress(SEED_STAGES);
      let bulwark: Bulwark | undefined;
      try {
        bulwark = await openBulwark({
          dataDir: join(dir, 'data'),
          mediaKey: await demoMediaKey(dir),
          webhooks: { webhookUrl: platform.url, secret: webhookSecret },
          // Reports filed in the demo ask the demo platform for the account's identifiers (docs/ncmec.md).
          ncmec: { ...ncmecConfigFromEnv(process.env), accountDetails: { url: platform.accountDetailsUrl, secret: webhookSecret } },
          hashing: hashingWithFlags(hashingConfigFromEnv(process.env), options),
          video: videoConfigFromEnv(process.env),
          notices: { locationPatterns: locationPatternsFromEnv(process.env.BULWARK_NOTICE_LOCATION_PATTERNS || DEMO_NOTICE_LOCATION_PATTERNS) },
        });
        const samples = join(dir, 'samples');
        await seedBank(bulwark, samples, progress);
        await activateDemoRules(bulwark, progress);
        const network = await seedNetworkDemo(bulwark, progress);
        const review = await seedReviewDemo(bulwark, progress);
        // Deliver what the seeding decided now, so the tour shows it rather than lines arriving after it.
        await bulwark.actions.dispatchDue();
        progress.stop();
        const key = process.env.BULWARK_API_KEY ?? (await bulwark.apiKeys.create('demo')).key;
        const address = await serve(bulwark, options, undefined, 'warn');
        process.stderr.write(
          demoTour({
            address,
            dir,
            samples,
            key,
            keyFromEnv: process.env.BULWARK_API_KEY !== undefined,
            seconds: Math.round((performance.now() - started) / 1000),
            received,
            queues: await bulwark.cases.queues(),
            network,
            review,
            noticePatternsFromEnv: Boolean(process.env.BULWARK_NOTICE_LOCATION_PATTERNS),
            logLevel: process.env.BULWARK_LOG_LEVEL || 'warn',
          }),
        );
        touring = true;
      } catch (error) {
        progress.stop();
        // The demo platform's server, hashing threads and timers would keep the process alive after the error.
        await bulwark?.close();
        await platform.close();
        throw error;
      }
    });
}
