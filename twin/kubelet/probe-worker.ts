import type { V1Probe } from '#client-node';
import { probeTiming, runProbe } from '../runtime/probes.ts';

export type ProbeKind = 'Readiness' | 'Liveness' | 'Startup';

export interface ProbeCallbacks {
  /** The probe's verdict changed (after success/failure thresholds). */
  onVerdict(ok: boolean): void;
  /** One attempt failed (for the Unhealthy event). */
  onFailure(message: string): void;
}

/**
 * Runs one probe of a running container periodically: initialDelaySeconds, then every
 * periodSeconds (at least 0.2 s in the twin), turning attempts into verdicts with
 * successThreshold / failureThreshold. The first verdict is "failed" until enough successes.
 */
export class ProbeWorker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  private verdict: boolean | undefined;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: V1Probe,
    private readonly podIP: string,
    private readonly ports: readonly { name?: string; containerPort: number }[],
    private readonly callbacks: ProbeCallbacks,
    private readonly sourceIP?: string,
  ) {}

  start(): void {
    const t = probeTiming(this.probe);
    this.schedule(t.initialDelayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const t = probeTiming(this.probe);
    const outcome = await runProbe(this.probe, this.podIP, this.ports, this.sourceIP);
    if (this.stopped) return;
    if (outcome.ok) {
      this.successes++;
      this.failures = 0;
      if (this.verdict !== true && this.successes >= (this.kind === 'Readiness' ? t.successThreshold : 1)) this.setVerdict(true);
    } else {
      this.failures++;
      this.successes = 0;
      this.callbacks.onFailure(outcome.message);
      if (this.verdict !== false && this.failures >= t.failureThreshold) this.setVerdict(false);
    }
    // A passed startup probe has done its job.
    if (this.kind === 'Startup' && this.verdict === true) return;
    this.schedule(t.periodMs);
  }

  private setVerdict(ok: boolean): void {
    this.verdict = ok;
    this.callbacks.onVerdict(ok);
  }
}
