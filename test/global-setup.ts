import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Unique per `vitest run`: build-once.ts stamps its output with it. */
    testRunId: string;
  }
}

/** Runs once per test run, before any test file (vitest.config.ts globalSetup). */
export default function setup(project: TestProject): void {
  project.provide('testRunId', `${process.pid}-${Date.now()}`);
}
