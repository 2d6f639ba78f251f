import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Bulwark } from '../app.ts';
import { PIPELINE_RELAY } from './pipeline-relay.ts';
import { unhandledByStage } from './pipeline-streams.ts';
import type { NatsSettings } from './settings.ts';

/**
 * For a process that runs no distributed runtime (a CLI command) on a deployment whose
 * pipeline stages run on JetStream (a relay has a position): it hands its stages over too, so
 * it neither handles events beside the workers out of order nor reads figures while decisions
 * are still queued. A stage's settled() then asks NATS, connecting on first use, what is left;
 * without NATS settings it refuses (RetryLaterError) instead of answering from half the events.
 * Returns undefined when the deployment's stages read the outbox.
 */
export async function handOverToJetStream(bulwark: Bulwark, settings: NatsSettings | undefined): Promise<{ close(): Promise<void> } | undefined> {
  if (bulwark.sql.driver !== 'postgres' || settings?.pipeline === 'outbox') return undefined;
  const relay = await bulwark.sql.query('SELECT 1 FROM consumer_offsets WHERE consumer = $1', [PIPELINE_RELAY]);
  if (relay.rows.length === 0) return undefined;
  let connection: Promise<NatsConnection> | undefined;
  let manager: JetStreamManager | undefined;
  const remaining = (stage: string) => async () => {
    if (!settings) return undefined;
    // One attempt with a bound, retried on the next call: a command must not wait forever for a NATS that is away.
    connection ??= connect({ servers: settings.url.split(',').map((server) => server.trim()), name: `bulwark-cli-${process.pid}`, timeout: 5000, reconnect: false });
    const nc = await connection.catch(() => undefined);
    if (!nc || nc.isClosed()) {
      connection = undefined;
      return undefined;
    }
    manager ??= await jetstreamManager(nc).catch(() => undefined);
    return manager ? unhandledByStage(bulwark.events, manager, settings, stage) : undefined;
  };
  for (const stage of bulwark.pipelineStages) stage.handOver(remaining(stage.name));
  return { close: async () => void (await connection?.then((nc) => nc.close()).catch(() => undefined)) };
}
