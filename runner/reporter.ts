/** How the runner reports: Playwright's test.step and attachments, or plain console output outside a test. */
export interface RunReporter {
  step<T>(title: string, body: () => Promise<T>): Promise<T>;
  attach(name: string, body: string, contentType: string): Promise<void>;
  log(line: string): void;
}

export const consoleReporter: RunReporter = {
  async step(title, body) {
    process.stderr.write(`• ${title}\n`);
    return body();
  },
  async attach() {},
  log(line) {
    process.stderr.write(`  ${line}\n`);
  },
};
