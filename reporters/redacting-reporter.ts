import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { FullResult, Reporter, TestCase, TestError, TestResult, TestStep } from '@playwright/test/reporter';
import { redact, redactText as redactAttachmentText } from '../core/redact.ts';

/**
 * The first reporter in playwright.config.ts. Playwright hands the same result, step and error objects to
 * every reporter in order, so this one redacts them in place before allure-playwright, the JUnit reporter,
 * the conformance reporter and the console (list) reporter see them: error messages and stacks (a failed
 * request's URL with `user:password@`, a header echoed in an assertion), step titles, captured
 * stdout/stderr, and the bodies of text attachments (Allure's parameters travel as attachments too).
 * The attachment helpers redact at the source already; this is what keeps Playwright's own bytes clean.
 */
export default class RedactingReporter implements Reporter {
  private readonly done = new WeakSet<object>();

  printsToStdio(): boolean {
    return false;
  }

  onStepBegin(_test: TestCase, _result: TestResult, step: TestStep): void {
    redactStepTitle(step);
  }

  onStepEnd(_test: TestCase, _result: TestResult, step: TestStep): void {
    redactStepTitle(step);
    if (step.error) redactError(step.error);
    for (const a of step.attachments ?? []) this.redactAttachment(a);
  }

  onTestEnd(_test: TestCase, result: TestResult): void {
    for (const e of result.errors) redactError(e);
    if (result.error) redactError(result.error);
    redactChunks(result.stdout);
    redactChunks(result.stderr);
    for (const a of result.attachments) this.redactAttachment(a);
    for (const s of result.steps) this.redactStepTree(s);
    for (const an of result.annotations) if (an.description) an.description = redact(an.description);
  }

  onError(error: TestError): void {
    redactError(error);
  }

  onEnd(_result: FullResult): void {}

  private redactStepTree(step: TestStep): void {
    redactStepTitle(step);
    if (step.error) redactError(step.error);
    for (const a of step.attachments ?? []) this.redactAttachment(a);
    for (const s of step.steps) this.redactStepTree(s);
  }

  private redactAttachment(a: TestResult['attachments'][number]): void {
    if (this.done.has(a)) return;
    this.done.add(a);
    if (!isText(a.contentType)) return;
    if (a.body) {
      a.body = Buffer.from(redactAttachmentText(a.contentType, a.body.toString('utf8')));
    } else if (a.path) {
      try {
        if (statSync(a.path).size > 64 * 1024 * 1024) return;
        const text = readFileSync(a.path, 'utf8');
        const clean = redactAttachmentText(a.contentType, text);
        if (clean !== text) writeFileSync(a.path, clean);
      } catch {
        // an attachment file that is gone: nothing to redact
      }
    }
  }
}

function isText(contentType: string): boolean {
  return /^text\/|json|yaml|xml|javascript|csv|x-sh/i.test(contentType);
}

function redactStepTitle(step: TestStep): void {
  const clean = redact(step.title);
  if (clean !== step.title) (step as { title: string }).title = clean;
}

function redactError(e: TestError): void {
  if (e.message) e.message = redact(e.message);
  if (e.stack) e.stack = redact(e.stack);
  if (e.value) e.value = redact(e.value);
  if (e.snippet) e.snippet = redact(e.snippet);
  if (e.cause) redactError(e.cause);
}

function redactChunks(chunks: (string | Buffer)[]): void {
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    chunks[i] = typeof c === 'string' ? redact(c) : Buffer.from(redact(c.toString('utf8')));
  }
}
