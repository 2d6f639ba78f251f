import { invalid } from '../errors.ts';
import { ACTION_TYPES, type ActionTarget, type ActionTargets, type ActionType } from './types.ts';
import { WebhookTarget } from './webhook-target.ts';

/**
 * Which target carries out each action type: one per type, or a default for every type
 * without its own. Targets may be set while the service runs; actions waiting for a type
 * with no target are delivered on the next dispatch after one is set.
 */
export class ActionTargetRegistry implements ActionTargets {
  private readonly byType = new Map<ActionType, ActionTarget>();
  private fallback: ActionTarget | undefined;

  constructor(options: { byType?: Partial<Record<ActionType, ActionTarget>>; fallback?: ActionTarget } = {}) {
    for (const [type, target] of Object.entries(options.byType ?? {})) if (target) this.set(type as ActionType, target);
    this.fallback = options.fallback;
  }

  set(type: ActionType, target: ActionTarget | undefined): this {
    if (!ACTION_TYPES.includes(type)) throw invalid(`unknown action type ${JSON.stringify(type)}`);
    if (type === 'takedown_network') throw invalid('takedown_network is delivered as one suspend_account per member; give suspend_account a target');
    if (target) this.byType.set(type, target);
    else this.byType.delete(type);
    return this;
  }

  setDefault(target: ActionTarget | undefined): this {
    this.fallback = target;
    return this;
  }

  targetFor(type: ActionType): ActionTarget | undefined {
    return this.byType.get(type) ?? this.fallback;
  }
}

export interface WebhookConfig {
  /** One endpoint for every action type without its own. */
  webhookUrl?: string;
  /** Endpoints for particular action types. */
  webhooks?: Partial<Record<ActionType, string>>;
  /** HMAC signing secret (BULWARK_WEBHOOK_SECRET); required as soon as any URL is configured. */
  secret?: string;
  timeoutMs?: number;
}

/** Shortest signing secret accepted: a guessable one would let anyone forge Bulwark's requests. */
export const MIN_SECRET_LENGTH = 16;

export function actionTargetsFromConfig(config: WebhookConfig): ActionTargetRegistry {
  const urls = Object.entries(config.webhooks ?? {}).filter(([, url]) => url);
  const registry = new ActionTargetRegistry();
  if (!config.webhookUrl && urls.length === 0) return registry;
  if (!config.secret) throw invalid('a webhook URL is configured but no signing secret (BULWARK_WEBHOOK_SECRET)');
  if (config.secret.length < MIN_SECRET_LENGTH) throw invalid(`the webhook signing secret must be at least ${MIN_SECRET_LENGTH} characters`);
  const webhook = (url: string, setting: string) => {
    try {
      return new WebhookTarget({ url, secret: config.secret!, timeoutMs: config.timeoutMs });
    } catch (error) {
      // The message names the setting, not the URL, which may carry credentials in its user part.
      throw invalid(`${setting} is not a usable webhook URL: ${(error as Error).message.replace(url, '<url>')}`);
    }
  };
  if (config.webhookUrl) registry.setDefault(webhook(config.webhookUrl, 'the webhook URL'));
  for (const [type, url] of urls) registry.set(type as ActionType, webhook(url!, `the ${type} webhook URL`));
  return registry;
}

/**
 * Webhook settings from the environment: BULWARK_WEBHOOK_URL for every type,
 * BULWARK_WEBHOOK_URL_<TYPE> (e.g. BULWARK_WEBHOOK_URL_REMOVE_CONTENT) for one type,
 * BULWARK_WEBHOOK_SECRET and BULWARK_WEBHOOK_TIMEOUT_MS.
 */
export function webhookConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const webhooks: Partial<Record<ActionType, string>> = {};
  for (const type of ACTION_TYPES) {
    const url = env[`BULWARK_WEBHOOK_URL_${type.toUpperCase()}`];
    if (url) webhooks[type] = url;
  }
  const timeout = env.BULWARK_WEBHOOK_TIMEOUT_MS;
  if (timeout !== undefined && !/^\d{1,7}$/.test(timeout)) throw invalid('BULWARK_WEBHOOK_TIMEOUT_MS is a whole number of milliseconds');
  return {
    ...(env.BULWARK_WEBHOOK_URL ? { webhookUrl: env.BULWARK_WEBHOOK_URL } : {}),
    ...(Object.keys(webhooks).length ? { webhooks } : {}),
    ...(env.BULWARK_WEBHOOK_SECRET ? { secret: env.BULWARK_WEBHOOK_SECRET } : {}),
    ...(timeout ? { timeoutMs: Number(timeout) } : {}),
  };
}
