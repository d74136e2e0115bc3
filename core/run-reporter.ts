/** How a run reports: Playwright's test.step and attachments, or plain console output outside a test. */
export interface RunReporter {
  step<T>(title: string, body: () => Promise<T>): Promise<T>;
  attach(name: string, body: string, contentType: string): Promise<void>;
  log(line: string): void;
}
