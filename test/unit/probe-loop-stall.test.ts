/**
 * The twin's kubelet probes from the twin host's event loop, which it shares with the API server, the controllers
 * and (in tests) the Playwright worker. A stall of that loop is the prober's, not the pod's: a real kubelet, a
 * process of its own, would have read the answer in time. These tests stall this process's loop while a pod (a
 * server in a child process, so it answers during the stall) is probed: the probe must still pass. A pod that
 * never answers must still fail with the kubelet's deadline message.
 */
import { test, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import { runProbe } from '../../twin/runtime/probes.ts';
import { fairDeadline } from '../../twin/runtime/fair-deadline.ts';

/** A server in a child process: `answer` answers 200, `silent` accepts and never answers. Resolves its port. */
async function childServer(kind: 'answer' | 'silent'): Promise<{ port: number; stop(): void }> {
  const handler = kind === 'answer' ? '(req, res) => res.end("ok")' : '() => undefined';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:http').createServer(${handler}); s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((ok, fail) => {
    readline.createInterface({ input: child.stdout! }).once('line', ok);
    child.once('exit', (code) => fail(new Error(`child server exited (${code}) before listening`)));
  });
  return { port: Number(line), stop: () => child.kill('SIGKILL') };
}

/** Holds this process's event loop for `ms`, as a busy twin host would. */
function stallLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* busy */
  }
}

test.describe("probes and a stall of the prober's own loop", () => {
  test("an HTTP probe whose pod answered in time passes although the prober's loop stalled past the deadline", async () => {
    const server = await childServer('answer');
    try {
      // timeoutSeconds 0.2: the twin's shortest probe timeout; the stall is far longer, and the ~1.8 s it gives back
      // is the child's time to answer (the request leaves only after the stall)
      const probe = runProbe({ httpGet: { port: server.port, path: '/healthz' }, timeoutSeconds: 0.2 }, '127.0.0.1', []);
      stallLoop(2000);
      expect(await probe).toEqual({ ok: true, message: 'HTTP probe succeeded with statuscode: 200' });
    } finally {
      server.stop();
    }
  });

  test('a TCP probe passes the same way', async () => {
    const server = await childServer('answer');
    try {
      const probe = runProbe({ tcpSocket: { port: server.port }, timeoutSeconds: 0.2 }, '127.0.0.1', []);
      stallLoop(2000);
      expect(await probe).toEqual({ ok: true, message: 'tcp probe succeeded' });
    } finally {
      server.stop();
    }
  });

  test("a pod that never answers still fails with the kubelet's deadline message, stall or not", async () => {
    const server = await childServer('silent');
    try {
      const url = `http://127.0.0.1:${server.port}/healthz`;
      const expected = {
        ok: false,
        message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      };
      const quiet = runProbe({ httpGet: { port: server.port, path: '/healthz' }, timeoutSeconds: 0.2 }, '127.0.0.1', []);
      expect(await quiet).toEqual(expected);
      const stalled = runProbe({ httpGet: { port: server.port, path: '/healthz' }, timeoutSeconds: 0.2 }, '127.0.0.1', []);
      stallLoop(600);
      expect(await stalled).toEqual(expected);
    } finally {
      server.stop();
    }
  });
});

test.describe('fairDeadline', () => {
  /**
   * A clock and a timer queue the test moves by hand: `advance` moves the clock and runs the timers then due, in
   * due order, so what fires when does not depend on how busy the box is. Only the expiry's setImmediate is real;
   * `checkPhase` waits for it.
   */
  function fakeTime(start = 1_000_000) {
    let t = start;
    let timers: { due: number; fn: () => void }[] = [];
    return {
      now: () => t,
      setTimer(fn: () => void, ms: number): () => void {
        const timer = { due: t + ms, fn };
        timers.push(timer);
        return () => (timers = timers.filter((x) => x !== timer));
      },
      /** Moves the clock by `ms`; timers due by then run, late by whatever the move passed their due time. */
      advance(ms: number): void {
        t += ms;
        for (;;) {
          const due = timers.filter((x) => x.due <= t).sort((x, y) => x.due - y.due)[0];
          if (!due) return;
          timers = timers.filter((x) => x !== due);
          due.fn();
        }
      },
      pending: () => timers.map((x) => x.due - t),
    };
  }
  /** One check phase of the real loop: an expiry queued with setImmediate has run when this resolves. */
  const checkPhase = (): Promise<void> => new Promise((ok) => setImmediate(ok));

  test('fires once its time passed on time, and not after cancel', async () => {
    const time = fakeTime();
    let fired = 0;
    fairDeadline(10, () => fired++, time);
    time.advance(9);
    await checkPhase();
    expect(fired).toBe(0);
    time.advance(1 + 20); // due, and late by less than the slack (ordinary jitter): no extension
    expect(fired).toBe(0); // pending I/O still gets the check phase first
    await checkPhase();
    expect(fired).toBe(1);
    time.advance(10_000);
    await checkPhase();
    expect(fired).toBe(1);

    let cancelledFired = 0;
    const d = fairDeadline(10, () => cancelledFired++, time);
    d.cancel();
    d.cancel();
    time.advance(10);
    await checkPhase();
    expect(cancelledFired).toBe(0);
    expect(time.pending()).toEqual([]);

    let cancelledAtExpiry = 0;
    const e = fairDeadline(10, () => cancelledAtExpiry++, time);
    time.advance(10); // expiry queued for the check phase ...
    e.cancel(); // ... and cancelled before it runs (the answer was read in that turn)
    await checkPhase();
    expect(cancelledAtExpiry).toBe(0);
  });

  test('a late timer gives the lateness back, at most maxExtensionMs in all', async () => {
    const time = fakeTime();
    let fired = 0;
    fairDeadline(1, () => fired++, { ...time, slackMs: 50, maxExtensionMs: 300 });
    time.advance(1 + 200); // the loop was held 200 ms past the deadline
    await checkPhase();
    expect(fired).toBe(0);
    expect(time.pending()).toEqual([200]); // re-armed for the 200 ms given back
    time.advance(200 + 200); // late again: only 100 ms of extension are left
    await checkPhase();
    expect(fired).toBe(0);
    expect(time.pending()).toEqual([100]);
    time.advance(100 + 500); // late again, but the extension is used up
    await checkPhase();
    expect(fired).toBe(1);
    expect(time.pending()).toEqual([]);
  });
});
