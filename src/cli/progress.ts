import cliProgress from 'cli-progress';

/**
 * Progress on stderr with cli-progress: replayed receive time of the total, lines/s, versions.
 * Shown when stderr is a TTY or `--progress` forces it; `--no-progress` hides it.
 */
export function wantsProgress(flag: boolean | undefined): boolean {
  return flag ?? Boolean(process.stderr.isTTY);
}

const hms = (s: number): string => {
  const t = Math.max(0, Math.floor(s));
  return `${String(Math.floor(t / 3600)).padStart(2, '0')}:${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
};

export class ReplayProgressBar {
  private readonly bar: cliProgress.SingleBar;
  private readonly startWall = performance.now();
  private started = false;

  constructor(
    private readonly label: string,
    /** Receive-time span of the recording (µs), when known. */
    private readonly firstUs: number | undefined,
    private readonly lastUs: number | undefined,
  ) {
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} |{bar}| {percentage}% | {pos} of {total_t} | {rate} lines/s | {versions} versions`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        noTTYOutput: !process.stderr.isTTY,
        notTTYSchedule: 2000,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(p: { lines: number; recv_us: number; versions: number }): void {
    const total = this.firstUs !== undefined && this.lastUs !== undefined ? Math.max(1, (this.lastUs - this.firstUs) / 1e6) : 0;
    const pos = this.firstUs !== undefined ? (p.recv_us - this.firstUs) / 1e6 : 0;
    const elapsed = (performance.now() - this.startWall) / 1000;
    const payload = {
      pos: hms(pos),
      total_t: total ? hms(total) : '?',
      rate: elapsed > 0 ? Math.round(p.lines / elapsed).toLocaleString('en-US') : '0',
      versions: p.versions,
    };
    if (!this.started) {
      this.bar.start(Math.max(1, Math.round(total)), Math.round(pos), payload);
      this.started = true;
    } else {
      this.bar.update(Math.round(pos), payload);
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}
