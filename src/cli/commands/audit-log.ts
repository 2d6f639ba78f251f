import type { Command } from 'commander';
import { newMacKey, newSigningKeyPem, parseSigningKey, CheckpointSigner, rawPublicKey } from '../../audit/audit-keys.ts';
import { checkpointJson } from '../../audit/checkpoints.ts';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';

const warn = (warnings: string[]) => {
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
};

/** The append-only audit log: list it, verify its chain and checkpoints, write a checkpoint. */
export function auditLogCommands(program: Command): void {
  const audit = program.command('audit-log').description('the append-only audit log of decisions and reviewer activity');
  audit
    .command('list')
    .description('newest entries first')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50)
    .option('--subject <subject>', 'only entries about this subject, e.g. case:12')
    .action(async (options: { limit: number; subject?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const entries = await bulwark.audit.list({ limit: options.limit, subject: options.subject });
        if (json) printJson(entries);
        else process.stdout.write(table(entries.map((e) => ({ seq: e.seq, at: e.at.toISOString(), actor: e.actor, action: e.action, subject: e.subject, key: e.keyId ?? '' }))));
      }),
    );
  audit
    .command('verify')
    .description('recompute the chain and compare it with signed checkpoints; names the first entry that fails and exits 1')
    .option('--checkpoint <file|latest>', 'a JSON-lines file of checkpoints, or `latest`: the newest in BULWARK_AUDIT_CHECKPOINT_FILE')
    .action(async (options: { checkpoint?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const loaded = options.checkpoint ? await bulwark.auditCheckpoints.load(options.checkpoint) : { checkpoints: [], problems: [] };
        const report = await bulwark.audit.check({ checkpoints: loaded.checkpoints });
        const intact = !report.failure && loaded.problems.length === 0;
        if (json) {
          printJson({
            entries: report.entries,
            intact,
            broken_at: report.failure ? (report.failure.seq ?? null) : null,
            failure: report.failure ?? null,
            unkeyed_entries: report.unkeyedEntries,
            key_ids: report.keyIds,
            checkpoints: { checked: report.checkpoints.checked, refused: loaded.problems, newest: report.checkpoints.newest ? checkpointSummary(report.checkpoints.newest) : null },
            warnings: bulwark.auditWarnings,
          });
        } else {
          const lines: string[] = [];
          for (const problem of loaded.problems) lines.push(`checkpoint ${problem.source} REFUSED: ${problem.reason}`);
          if (report.failure) {
            const { position, seq, reason } = report.failure;
            lines.push(`audit log BROKEN at entry ${seq ?? '(missing)'} (number ${position} in the chain): ${reason}`, `${report.entries} entries before it verify`);
          } else {
            const keys = report.keyIds.length ? `keyed with ${report.keyIds.join(', ')}` : 'not keyed';
            lines.push(`audit log intact: ${report.entries} entries, ${keys}${report.unkeyedEntries ? `; ${report.unkeyedEntries} unkeyed` : ''}`);
            const newest = report.checkpoints.newest;
            if (newest) lines.push(`${loaded.checkpoints.length} checkpoint(s) consistent; newest ${newest.source}: ${newest.count} entries, signed ${newest.at} by ${newest.keyId}`);
          }
          process.stdout.write(`${lines.join('\n')}\n`);
          warn(bulwark.auditWarnings);
        }
        if (!intact) process.exitCode = 1;
      }),
    );
  audit
    .command('checkpoint')
    .description('verify the chain since the last checkpoint, then sign its head and append it to BULWARK_AUDIT_CHECKPOINT_FILE')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const outcome = await bulwark.auditCheckpoints.checkpoint();
        const written = outcome.checkpoint;
        if (json) printJson({ written: written ? JSON.parse(checkpointJson(written)) : null, entries: outcome.report.entries, sinks: bulwark.auditCheckpoints.sinks.map((sink) => sink.name) });
        else process.stdout.write(written ? `checkpoint: ${written.count} entries, ending at entry ${written.headSeq}, signed by ${written.keyId}, written to ${bulwark.auditCheckpoints.sinks.map((sink) => sink.name).join(', ')}\n` : `no new entries since the last checkpoint (${outcome.report.entries} entries)\n`);
      }),
    );
  audit
    .command('public-key')
    .description('the checkpoint signing key’s public half (for BULWARK_AUDIT_CHECKPOINT_KEYS of whoever verifies)')
    .action(async () => {
      const text = process.env.BULWARK_AUDIT_SIGNING_KEY;
      if (!text) throw new Error('BULWARK_AUDIT_SIGNING_KEY is not set');
      const signer = new CheckpointSigner(parseSigningKey(text));
      process.stdout.write(`${rawPublicKey(signer.publicKey).toString('base64')}\n`);
    });
  audit
    .command('keygen')
    .description('print a fresh audit key and checkpoint signing key (set them in the environment; shown once)')
    .action(() => {
      const signing = newSigningKeyPem();
      const publicKey = rawPublicKey(new CheckpointSigner(parseSigningKey(signing)).publicKey).toString('base64');
      process.stdout.write(`BULWARK_AUDIT_KEY=${newMacKey()}\nBULWARK_AUDIT_SIGNING_KEY="${signing.trim()}"\n# public key, for BULWARK_AUDIT_CHECKPOINT_KEYS of verifiers:\n# ${publicKey}\n`);
    });
}

const checkpointSummary = (c: { count: number; headSeq: number; at: string; keyId: string; source: string }) => ({ count: c.count, head_seq: c.headSeq, at: c.at, key_id: c.keyId, source: c.source });
