import { Presets, SingleBar } from 'cli-progress';

export interface StageProgress {
  stage(label: string, total?: number): void;
  advance(done: number): void;
  stop(): void;
}

/**
 * Progress through numbered stages on stderr. A terminal gets one bar that each stage
 * restarts; a pipe or CI log gets plain lines: one as each stage starts, and one at each
 * quarter of a long stage, so a log shows where a slow start spent its time.
 */
export function stageProgress(stages: readonly string[], stream: NodeJS.WriteStream = process.stderr): StageProgress {
  const number = (label: string) => `[${stages.indexOf(label) + 1}/${stages.length}] ${label}`;
  if (!stream.isTTY) {
    let total = 0;
    let quarter = 0;
    let current = '';
    return {
      stage(label, stageTotal) {
        current = label;
        total = stageTotal ?? 0;
        quarter = 0;
        stream.write(`  ${number(label)}…\n`);
      },
      advance(done) {
        if (total <= 0) return;
        const reached = Math.floor((done / total) * 4);
        if (reached > quarter && reached < 4) {
          quarter = reached;
          stream.write(`  ${number(current)}: ${reached * 25}%\n`);
        }
      },
      stop: () => undefined,
    };
  }
  const bar = new SingleBar(
    { format: '  {stage} [{bar}] {percentage}%', stream, hideCursor: true, clearOnComplete: true, barsize: 30 },
    Presets.shades_classic,
  );
  let started = false;
  return {
    stage(label, total) {
      // A stage without a count is one step: its bar stays empty until the next stage starts.
      const payload = { stage: number(label).padEnd(34) };
      if (!started) {
        bar.start(total ?? 1, 0, payload);
        started = true;
      } else {
        bar.setTotal(total ?? 1);
        bar.update(0, payload);
      }
    },
    advance: (done) => bar.update(done),
    stop: () => {
      if (started) bar.stop();
    },
  };
}
