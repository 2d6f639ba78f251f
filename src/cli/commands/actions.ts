import type { Command } from 'commander';

/** Enforcement actions: list, show, re-queue and deliver what is due. */
export function actionsCommands(program: Command): void {
  program.command('actions').description('enforcement actions delivered to the platform: list, show, retry, dispatch');
}
