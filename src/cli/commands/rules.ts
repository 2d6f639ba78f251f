import type { Command } from 'commander';
import { BulwarkError } from '../../errors.ts';

/** Rule files: check one against recorded events before it goes live. */
export function rulesCommands(program: Command): void {
  const rules = program.command('rules').description('rule files: what opens cases and fires actions');
  rules
    .command('test')
    .description('evaluate a rule file against recorded events and print what would fire')
    .argument('<file>')
    .action(async () => {
      throw new BulwarkError('unavailable', 'rules test is being built');
    });
}
