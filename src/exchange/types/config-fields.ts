import { invalid } from '../../errors.ts';

/**
 * Reading an operator's exchange configuration: each helper names the field it refuses, so
 * `exchange add` answers "pageSize must be an integer from 1 to 1000" rather than a stack.
 */
export function configObject(raw: unknown, type: string): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(`${type} configuration must be an object`, { field: 'config' });
  return raw as Record<string, unknown>;
}

export function refuseUnknownFields(config: Record<string, unknown>, known: string[], type: string): void {
  const unknown = Object.keys(config).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw invalid(`${type} configuration has unknown field ${unknown[0]} (known: ${known.join(', ')})`, { field: unknown[0] });
}

export function httpUrlField(config: Record<string, unknown>, field: string, fallback: string): string {
  const value = config[field] ?? fallback;
  if (typeof value !== 'string') throw invalid(`${field} must be a URL`, { field });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`${field} is not a URL`, { field });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`${field} must be an http(s) URL`, { field });
  if (url.username || url.password || url.search) throw invalid(`${field} must not carry credentials or a query (credentials come from the environment)`, { field });
  return value.replace(/\/+$/, '');
}

export function integerField(config: Record<string, unknown>, field: string, fallback: number, min: number, max: number): number {
  const value = config[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${field} must be an integer from ${min} to ${max}`, { field });
  }
  return value;
}

/** A credential from the environment, or an 'invalid' error naming the variable (never its value). */
export function requiredVariable(env: NodeJS.ProcessEnv, variable: string): string {
  const value = env[variable]?.trim();
  if (!value) throw invalid(`environment variable ${variable} is not set`, { variable });
  return value;
}
