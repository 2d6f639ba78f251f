import { Command, Option } from 'commander';
import { bankCommands } from './commands/bank.ts';
import { apiKeyCommands } from './commands/apikey.ts';
import { hashCommand } from './commands/hash.ts';
import { matchCommand } from './commands/match.ts';
import { networkCommands } from './commands/network.ts';
import { discoveryCommands } from './commands/network-discover.ts';
import { legalCommands } from './commands/legal.ts';
import { caseCommands, reviewerCommands } from './commands/review.ts';
import { auditLogCommands } from './commands/audit-log.ts';
import { demoCommand } from './commands/demo.ts';
import { serveCommand, migrateCommand } from './commands/serve.ts';
import { reportError } from './output.ts';
import { BULWARK_VERSION } from '../version.ts';

const program = new Command('bulwark')
  .description('Bulwark: detect known abuse media, find the networks that trade it, and act on it.')
  .version(BULWARK_VERSION)
  .addOption(new Option('--data-dir <dir>', 'folder of the embedded store').env('BULWARK_DATA_DIR').default('.bulwark/data'))
  .addOption(new Option('--database-url <url>', 'PostgreSQL server to use instead of the embedded store').env('BULWARK_DATABASE_URL'))
  .option('--json', 'machine-readable output for scripts')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false });

serveCommand(program);
demoCommand(program);
hashCommand(program);
matchCommand(program);
bankCommands(program);
networkCommands(program);
discoveryCommands(program);
apiKeyCommands(program);
reviewerCommands(program);
caseCommands(program);
auditLogCommands(program);
legalCommands(program);
(await import('./commands/actions.ts')).actionsCommands(program);
(await import('./commands/rules.ts')).rulesCommands(program);
(await import('./commands/ncmec.ts')).ncmecCommands(program);
(await import('./commands/dsa.ts')).dsaCommands(program);
(await import('./commands/preservation.ts')).preservationCommands(program);
(await import('./commands/dead-letters.ts')).deadLetterCommands(program);
(await import('./commands/exchange.ts')).exchangeCommands(program);
migrateCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  reportError(error, { json: program.opts().json });
}
