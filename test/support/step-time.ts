import type { ServedRequest } from "../../scripts/local-stack/github-emulator/index.ts";
import type { Stack } from "../../scripts/local-stack/stack-fixture.ts";
import { SETTINGS_ENV } from "../../src/config/settings.ts";

/**
 * No Rotate invocation has more time than this: an aws:invokeLambdaFunction step runs at most 300 s
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-lamb.html), and the function's
 * deadline is its timeout less the 60 s it keeps in reserve (src/handler.ts).
 */
const WHOLE_STEP_MS = 300_000;

/**
 * Makes the Rotate step's time run out right after chosen repositories are written, deterministically: when the key
 * ID (a repository's second write) of a chosen repository reaches GitHub, the emulator's write hook moves the stack's
 * clock on by a whole step, past the running invocation's deadline, and the function reads the new time before
 * GitHub answers (Stack.advanceClock). The sync then starts no other repository in that invocation: the function
 * answers `again` and the runbook's loop invokes it again, as when a long list outlasts the step's real time, but
 * after exactly the repositories the test chose, whatever the machine's speed (src/lifecycle/sync-key.ts; an
 * invocation always starts its first repository).
 *
 * `endsStep(n)`: whether the step's time runs out once the n-th key ID of the stack (from 1, every execution
 * counted) is written. Replaces the stack's extra write hook (Stack.onSecretWritten).
 */
export function runOutOfStepTimeAfter(stack: Stack, endsStep: (keyIdWrite: number) => boolean): void {
  const keyIdName = (stack.env[SETTINGS_ENV.secretNameKeyId] ?? "AWS_ACCESS_KEY_ID").toUpperCase();
  let keyIdWrites = 0;
  stack.onSecretWritten(async (event) => {
    if (event.name !== keyIdName) return;
    keyIdWrites++;
    if (endsStep(keyIdWrites)) await stack.advanceClock(WHOLE_STEP_MS);
  });
}

/**
 * Like runOutOfStepTimeAfter, for reads: when GitHub (the emulator) answers a chosen request — one environment's
 * secret listing of the shadowing check, say — its served hook moves the stack's clock on by a whole step, past the
 * running invocation's deadline, before the answer reaches the function. `endsStep` is asked about every request
 * a handler answers (every execution counted). Replaces the emulator's served hook.
 */
export function runOutOfStepTimeAtRead(stack: Stack, endsStep: (request: ServedRequest) => boolean): void {
  stack.github.setServedHook(async (request) => {
    if (endsStep(request)) await stack.advanceClock(WHOLE_STEP_MS);
  });
}
