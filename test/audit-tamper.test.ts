import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AuditLog } from '../src/audit/audit-log.ts';
import { AuditKeyring, CheckpointSigner, TrustedCheckpointKeys } from '../src/audit/audit-keys.ts';
import { keyedMac, unkeyedHash } from '../src/audit/chain.ts';
import { AuditCheckpointer } from '../src/audit/checkpointer.ts';
import { checkpointJson, FileCheckpointSink, signCheckpoint } from '../src/audit/checkpoints.ts';
import { auditConfigFromEnv, auditParts } from '../src/audit/config.ts';
import { migrate } from '../src/store/migrate.ts';
import { openSql, type SqlClient } from '../src/store/sql.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();
const macKey = () => randomBytes(32).toString('hex');
const signingKey = () => generateKeyPairSync('ed25519').privateKey;

/** Changes made around the database, as its owner could: the append-only triggers switched off. */
async function tamper(sql: SqlClient, change: (tx: SqlClient) => Promise<void>): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await change(tx);
    await tx.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
  });
}

async function appendEntries(sql: SqlClient, log: AuditLog, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await sql.transaction((tx) => log.append(tx, { actor: 'rev-one', action: 'case.decided', subject: `case:${i + 1}`, detail: { verdict: 'confirm', policy: 'csam' } }));
  }
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  key_id: string | null;
}

const rows = async (sql: SqlClient) =>
  (
    await sql.query<Row>(
      `SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, actor, action, subject, detail, prev_hash, hash, key_id FROM audit_log ORDER BY seq`,
    )
  ).rows.map((row) => ({ ...row, seq: Number(row.seq) }));

/**
 * What an attacker without the audit key can do after changing one entry: recompute every
 * link from there on, either as plain SHA-256 (as entries were before keys) or as an HMAC
 * under a key of their own choosing that keeps the old key id.
 */
async function rechain(sql: SqlClient, fromSeq: number, attackerKey?: Buffer): Promise<void> {
  const all = await rows(sql);
  const index = all.findIndex((row) => row.seq === fromSeq);
  let prev = index > 0 ? all[index - 1].hash : '';
  await tamper(sql, async (tx) => {
    for (const row of all.filter((r) => r.seq >= fromSeq)) {
      const fields = { seq: row.seq, at: row.at, actor: row.actor, action: row.action, subject: row.subject, detail: row.detail, prev };
      const hash = attackerKey ? keyedMac(attackerKey, row.key_id!, fields) : unkeyedHash(fields);
      await tx.query('UPDATE audit_log SET prev_hash = $2, hash = $3, key_id = $4 WHERE seq = $1', [row.seq, prev, hash, attackerKey ? row.key_id : null]);
      prev = hash;
    }
  });
}

for (const target of targets) {
  describe(`tamper-evident audit log (${target.name})`, () => {
    let sql: SqlClient;
    let dir: string;
    let keyA: string;
    let log: AuditLog;
    let signer: CheckpointSigner;
    let checkpointer: AuditCheckpointer;
    let clock: Date;

    before(async () => {
      sql = await openSql(target.location());
      await migrate(sql);
      dir = mkdtempSync(join(tmpdir(), 'bulwark-audit-'));
    });
    after(async () => {
      await sql.close();
      await target.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(async () => {
      await tamper(sql, async (tx) => {
        await tx.query('TRUNCATE audit_log RESTART IDENTITY');
      });
      keyA = macKey();
      log = new AuditLog(sql, new AuditKeyring(keyA));
      signer = new CheckpointSigner(signingKey());
      clock = new Date('2026-03-01T12:00:00Z');
      const sink = new FileCheckpointSink(join(dir, `${randomBytes(4).toString('hex')}.jsonl`));
      checkpointer = new AuditCheckpointer(log, signer, new TrustedCheckpointKeys([signer.publicKey]), [sink], () => clock);
    });

    const checkAgainstStored = async (auditLog = log) => {
      const { checkpoints, problems } = await checkpointer.load((checkpointer.sinks[0] as FileCheckpointSink).path);
      assert.deepEqual(problems, []);
      return auditLog.check({ checkpoints });
    };

    it('passes an untouched log, keyed, with every checkpoint consistent', async () => {
      await appendEntries(sql, log, 5);
      const first = await checkpointer.checkpoint();
      assert.equal(first.checkpoint?.count, 5);
      await appendEntries(sql, log, 2);
      clock = new Date('2026-03-01T12:05:00Z');
      assert.equal((await checkpointer.checkpoint()).checkpoint?.count, 7);
      // Nothing new: no third checkpoint.
      assert.equal((await checkpointer.checkpoint()).checkpoint, undefined);
      const report = await checkAgainstStored();
      assert.equal(report.failure, undefined);
      assert.equal(report.entries, 7);
      assert.equal(report.checkpoints.checked, 2);
      assert.deepEqual(report.keyIds, [log.keys.current!.id]);
      assert.equal(report.unkeyedEntries, 0);
      assert.equal(report.checkpoints.newest?.at, '2026-03-01T12:05:00.000Z');
      assert.deepEqual(await log.verify(), { entries: 7 });
    });

    it('finds the newest entries deleted after a checkpoint, naming the first missing one', async () => {
      await appendEntries(sql, log, 6);
      await checkpointer.checkpoint();
      await tamper(sql, async (tx) => {
        await tx.query('DELETE FROM audit_log WHERE seq >= 5');
      });
      // The chain alone cannot see a cut-off tail; the checkpoint can.
      assert.equal((await log.check()).failure, undefined);
      const report = await checkAgainstStored();
      assert.equal(report.failure?.position, 5);
      assert.equal(report.failure?.seq, undefined);
      assert.match(report.failure!.reason, /missing: .* had 6 entries, ending at entry 6; only 4 remain/);
      await assert.rejects(new AuditCheckpointer(log, signer, checkpointer.trusted, checkpointer.sinks).checkpoint(), /fails verification at entry #5/);
    });

    it('finds an entry deleted from the middle', async () => {
      await appendEntries(sql, log, 6);
      await tamper(sql, async (tx) => {
        await tx.query('DELETE FROM audit_log WHERE seq = 3');
      });
      const report = await log.check();
      assert.deepEqual({ position: report.failure?.position, seq: report.failure?.seq }, { position: 3, seq: 4 });
      assert.match(report.failure!.reason, /does not follow the entry before it/);
      assert.deepEqual(await log.verify(), { entries: 2, brokenAt: 4 });
    });

    it('finds an entry edited and the chain recomputed without the key (unkeyed hashes)', async () => {
      await appendEntries(sql, log, 6);
      await tamper(sql, async (tx) => {
        await tx.query(`UPDATE audit_log SET detail = '{"verdict":"dismiss"}' WHERE seq = 3`);
      });
      await rechain(sql, 3);
      const report = await log.check();
      assert.equal(report.failure?.seq, 3);
      assert.match(report.failure!.reason, /without a key after the keyed chain began/);
    });

    it('finds an entry edited and the chain recomputed under a guessed key', async () => {
      await appendEntries(sql, log, 6);
      await tamper(sql, async (tx) => {
        await tx.query(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3`);
      });
      await rechain(sql, 3, randomBytes(32));
      const report = await log.check();
      assert.equal(report.failure?.seq, 3);
      assert.match(report.failure!.reason, /does not match its MAC/);
    });

    it('without a key, finds a rewritten chain through the checkpoint only', async () => {
      const unkeyed = new AuditLog(sql);
      const withUnkeyed = new AuditCheckpointer(unkeyed, signer, checkpointer.trusted, checkpointer.sinks, () => clock);
      await appendEntries(sql, unkeyed, 5);
      await withUnkeyed.checkpoint();
      await tamper(sql, async (tx) => {
        await tx.query(`UPDATE audit_log SET detail = '{"verdict":"dismiss"}' WHERE seq = 2`);
      });
      await rechain(sql, 2);
      assert.equal((await unkeyed.check()).failure, undefined, 'an unkeyed chain can be recomputed');
      const report = await checkAgainstStored(unkeyed);
      assert.deepEqual({ position: report.failure?.position, seq: report.failure?.seq }, { position: 5, seq: 5 });
      assert.match(report.failure!.reason, /differs from checkpoint/);
    });

    it('finds two entries swapped', async () => {
      await appendEntries(sql, log, 6);
      const [third, fourth] = (await rows(sql)).filter((row) => row.seq === 3 || row.seq === 4);
      await tamper(sql, async (tx) => {
        for (const [seq, row] of [[3, fourth], [4, third]] as const) {
          await tx.query('UPDATE audit_log SET at = $2::timestamptz, actor = $3, action = $4, subject = $5, detail = $6::jsonb, prev_hash = $7, hash = $8, key_id = $9 WHERE seq = $1', [
            seq, row.at, row.actor, row.action, row.subject, JSON.stringify(row.detail), row.prev_hash, row.hash, row.key_id,
          ]);
        }
      });
      const report = await log.check();
      assert.equal(report.failure?.seq, 3);
      assert.match(report.failure!.reason, /does not match its MAC/);
    });

    it('verifies across a key rotation, and names the first entry whose key is missing', async () => {
      await appendEntries(sql, log, 3);
      const keyB = macKey();
      const rotated = new AuditLog(sql, new AuditKeyring(keyB, [keyA]));
      await appendEntries(sql, rotated, 3);
      const report = await rotated.check();
      assert.equal(report.failure, undefined);
      assert.equal(report.entries, 6);
      assert.deepEqual(report.keyIds, [log.keys.current!.id, rotated.keys.current!.id]);
      const forgotten = await new AuditLog(sql, new AuditKeyring(keyB)).check();
      assert.equal(forgotten.failure?.seq, 1);
      assert.match(forgotten.failure!.reason, /audit key [0-9a-f]{16}, which is not configured/);
    });

    it('keeps unkeyed entries from before the key behind a marked transition entry, and refuses to write unkeyed after it', async () => {
      const before = new AuditLog(sql);
      await appendEntries(sql, before, 3);
      await appendEntries(sql, log, 2);
      const all = await rows(sql);
      assert.equal(all.length, 6);
      assert.deepEqual([all[3].action, all[3].detail.unkeyed_entries, all[3].key_id], ['audit.chain_keyed', 3, log.keys.current!.id]);
      const report = await log.check();
      assert.equal(report.failure, undefined);
      assert.equal(report.unkeyedEntries, 3);
      await assert.rejects(appendEntries(sql, before, 1), /chained with audit key [0-9a-f]{16}; set BULWARK_AUDIT_KEY/);
    });

    it('refuses a checkpoint signed with another key, or altered after signing', async () => {
      await appendEntries(sql, log, 3);
      const head = (await rows(sql)).at(-1)!;
      const stranger = signCheckpoint(new CheckpointSigner(signingKey()), { count: 3, headSeq: head.seq, head: head.hash }, clock);
      const altered = { ...signCheckpoint(signer, { count: 3, headSeq: head.seq, head: head.hash }, clock), count: 2 };
      const file = join(dir, `refused-${target.name}.jsonl`);
      writeFileSync(file, `${checkpointJson(stranger)}\n${checkpointJson(altered)}\n`);
      const { checkpoints, problems } = await checkpointer.load(file);
      assert.deepEqual(checkpoints, []);
      assert.deepEqual(
        problems.map((p) => p.reason),
        [`signed by key ${stranger.keyId}, which is not a trusted checkpoint key`, `signature does not verify under key ${signer.keyId}`],
      );
    });
  });
}

describe('bulwark audit-log verify --checkpoint latest (embedded store, key files beside it)', () => {
  const root = mkdtempSync(join(tmpdir(), 'bulwark-audit-cli-'));
  const dataDir = join(root, 'data');
  after(() => rmSync(root, { recursive: true, force: true }));

  it('names the first missing entry and exits 1', async () => {
    const sql = await openSql({ dataDir });
    try {
      await migrate(sql);
      const config = await auditConfigFromEnv({}, dataDir);
      const parts = auditParts(config);
      const log = new AuditLog(sql, parts.keyring);
      await appendEntries(sql, log, 4);
      const outcome = await new AuditCheckpointer(log, parts.signer, parts.trusted, parts.sinks).checkpoint();
      assert.equal(outcome.checkpoint?.count, 4);
      assert.match(readFileSync(join(dataDir, 'audit', 'checkpoints.jsonl'), 'utf8'), /"count":4/);
      await tamper(sql, async (tx) => {
        await tx.query('DELETE FROM audit_log WHERE seq = 4');
      });
    } finally {
      await sql.close();
    }
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BULWARK_')));
    const run = spawnSync(process.execPath, ['bin/bulwark.js', '--data-dir', dataDir, 'audit-log', 'verify', '--checkpoint', 'latest'], { encoding: 'utf8', env });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /audit log BROKEN at entry \(missing\) \(number 4 in the chain\): missing: checkpoint .*checkpoints\.jsonl:1 .* had 4 entries/);
    assert.match(run.stderr, /default to files in the data dir/);
  });
});
