import type { V1Pod, V1Service } from '#client-node';
import { renderHosts, writeHostsFile } from '../runtime/hosts.ts';

/** Keeps the twin's hosts file in step with Services and pods: re-rendered (debounced) on every change. */
export class HostsFileKeeper {
  private timer: NodeJS.Timeout | undefined;
  private last = '';

  constructor(
    readonly file: string,
    private readonly snapshot: () => { services: readonly V1Service[]; pods: readonly V1Pod[] },
    private readonly debounceMs = 20,
  ) {
    this.writeNow();
  }

  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writeNow();
    }, this.debounceMs);
  }

  writeNow(): void {
    const { services, pods } = this.snapshot();
    const hosts = renderHosts(services, pods);
    const json = JSON.stringify(hosts);
    if (json === this.last) return;
    writeHostsFile(this.file, hosts);
    this.last = json;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
