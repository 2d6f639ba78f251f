import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROLES } from '../src/distributed/settings.ts';

// The container files are not built by the test suite (no container engine is assumed), so
// these checks keep them in step with the code: what the Dockerfile copies exists and is not
// left out of the build context, and compose runs roles and settings that exist.

const root = join(import.meta.dirname, '..');
const read = (name: string) => readFileSync(join(root, name), 'utf8');

/** The sources of the Dockerfile's COPY instructions that read the build context (not another stage). */
function contextCopies(dockerfile: string): string[] {
  return dockerfile
    .split('\n')
    .filter((line) => /^COPY\s/.test(line) && !/--from=/.test(line))
    .flatMap((line) => line.replace(/^COPY\s+(--\S+\s+)*/, '').trim().split(/\s+/).slice(0, -1));
}

/** Whether a .dockerignore pattern list leaves `path` out of the context (plain paths and `!` exceptions, as used here). */
function ignored(patterns: string[], path: string): boolean {
  let out = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    const regex = new RegExp(`^${body.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
    if (regex.test(path)) out = !negated;
  }
  return out;
}

describe('Dockerfile and compose.yaml', () => {
  const dockerignore = read('.dockerignore').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));

  it('copies only files that exist and that .dockerignore keeps in the build context', () => {
    const copies = contextCopies(read('Dockerfile'));
    assert.ok(copies.includes('src') && copies.includes('bin') && copies.includes('console'), `copies ${copies.join(', ')}`);
    for (const source of copies) {
      assert.ok(existsSync(join(root, source)), `${source} exists`);
      assert.ok(!ignored(dockerignore, source), `${source} is not in .dockerignore`);
    }
    // The secrets file and the installed modules never enter the context.
    assert.ok(ignored(dockerignore, '.env') && ignored(dockerignore, 'node_modules'));
    assert.ok(!ignored(dockerignore, '.env.example'));
  });

  it('runs as an unprivileged user, and its healthcheck asks /healthz', () => {
    const dockerfile = read('Dockerfile');
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1]);
    assert.ok(users.length > 0 && users.at(-1) !== 'root' && users.at(-1) !== '0', `the last USER is ${users.at(-1)}`);
    assert.match(dockerfile, /HEALTHCHECK[\s\S]*\/healthz/);
  });

  it('runs the api and worker roles against PostgreSQL and NATS, each service with a health check', () => {
    const compose = parse(read('compose.yaml')) as {
      services: Record<string, { command?: string[]; healthcheck?: unknown; environment?: Record<string, string>; image?: string; build?: unknown }>;
    };
    const { api, worker, postgres, nats } = compose.services;
    assert.ok(api && worker && postgres && nats, `services: ${Object.keys(compose.services).join(', ')}`);
    const role = (command: string[] | undefined) => command?.[command.indexOf('--role') + 1];
    assert.equal(role(api.command), 'api');
    assert.equal(role(worker.command), 'worker');
    for (const command of [api.command, worker.command]) assert.ok(ROLES.includes(role(command) as never));
    // Bulwark's own services take their health check from the image; the others declare one.
    assert.ok(postgres.healthcheck && nats.healthcheck);
    assert.ok(nats.command?.includes('-js'), 'NATS runs with JetStream');
    const example = read('.env.example');
    for (const name of Object.keys(api.environment ?? {})) assert.match(example, new RegExp(`^# ${name}=`, 'm'), `${name} is in .env.example`);
    // Compose fills ${NAME:-default} from .env: each such variable is listed there with that default.
    const interpolated = [...read('compose.yaml').matchAll(/\$\{([A-Z_]+):-([^}]*)\}/g)];
    assert.ok(interpolated.length > 0);
    for (const [, name, fallback] of interpolated) assert.ok(example.includes(`# ${name}=${fallback}\n`), `# ${name}=${fallback} is in .env.example`);
  });
});
