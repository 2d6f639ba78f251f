import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BulwarkError } from '../../errors.ts';

/**
 * Running ffmpeg and ffprobe as child processes. Every child is killed when its caller is
 * done with it, whatever happened, and awaited, so no child outlives the call that started
 * it; runningChildren() says how many are alive (for tests and health checks).
 */

const running = new Set<number>();

/** How many ffmpeg/ffprobe children of this process are running now. */
export function runningChildren(): number {
  return running.size;
}

/** Keeps the last `limit` characters of a child's error output: enough to explain a failure. */
const STDERR_TAIL = 8192;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ToolProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<Exit>;
  private stderr = '';
  private spawnError: Error | undefined;

  constructor(
    readonly command: string,
    args: string[],
  ) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const pid = this.child.pid;
    if (pid !== undefined) running.add(pid);
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_TAIL);
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('error', (error) => {
        this.spawnError = error;
        if (pid !== undefined) running.delete(pid);
        resolve({ code: null, signal: null });
      });
      this.child.once('close', (code, signal) => {
        if (pid !== undefined) running.delete(pid);
        resolve({ code, signal });
      });
    });
  }

  /** The child's error output so far, last part only. */
  get errorOutput(): string {
    return this.stderr;
  }

  /** Throws 'unavailable' when the tool could not be started at all (not installed). */
  checkStarted(): void {
    if (!this.spawnError) return;
    const code = (this.spawnError as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'is not installed (Debian: apt-get install -y ffmpeg)' : `could not be started (${code ?? this.spawnError.message})`;
    throw new BulwarkError('unavailable', `${this.command} ${reason}; video hashing needs ffmpeg and ffprobe`);
  }

  /** Kills the child if it is still running and waits until it has exited. */
  async stop(): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null && !this.spawnError) this.child.kill('SIGKILL');
    this.child.stdout.destroy();
    return this.exited;
  }
}

/** Runs a tool to completion and returns its standard output, at most maxBytes of it. */
export async function runTool(command: string, args: string[], maxBytes: number): Promise<{ stdout: string; exit: Exit; stderr: string }> {
  const tool = new ToolProcess(command, args);
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of tool.child.stdout as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new BulwarkError('invalid', `${command} wrote more than ${maxBytes} bytes about the file; it is not a video Bulwark can read`);
      chunks.push(chunk);
    }
    const exit = await tool.exited;
    tool.checkStarted();
    return { stdout: Buffer.concat(chunks).toString('utf8'), exit, stderr: tool.errorOutput };
  } finally {
    await tool.stop();
  }
}

/**
 * The first meaningful line of a tool's error output, without the file's path (a temporary
 * name, or the operator's own path, means nothing to whoever sent the video).
 */
export function toolReason(stderr: string, path: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.split(`file:${path}`).join('input').split(path).join('input').trim())
    .filter((line) => line.length > 0);
  const line = lines.find((l) => !/^\s*(ffmpeg|ffprobe) version/.test(l)) ?? '';
  return line.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').slice(0, 300) || 'no details';
}
