/**
 * Undo steps registered as resources are created (API child, databases), run last-in first-out on success,
 * failure, Ctrl-C or SIGTERM. Each step runs at most once, so a step already done by normal flow is skipped.
 */
const steps = [];
let running = null;
let aborting = false;

/** True once Ctrl-C or SIGTERM arrived: the signal handler finishes clean-up and exits, so callers should stop. */
export const isAborting = () => aborting;

/** Registers an undo step; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(label, fn) {
  const step = { label, fn, done: false };
  steps.push(step);
  return async () => {
    const i = steps.indexOf(step);
    if (i >= 0) steps.splice(i, 1);
    await runStep(step);
  };
}

async function runStep(step) {
  if (step.done) return;
  step.done = true;
  try {
    await step.fn();
  } catch (err) {
    console.error(`cleanup: ${step.label} failed: ${err instanceof Error ? err.message : err}`);
  }
}

/** Runs every pending step, newest first. Concurrent callers share one run. */
export function cleanupAll() {
  running ??= (async () => {
    while (steps.length) await runStep(steps.pop());
  })().finally(() => {
    running = null;
  });
  return running;
}

/** Ctrl-C or SIGTERM: clean up and exit 130/143; a second signal exits at once. */
export function installSignalHandlers() {
  let signalled = false;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ]) {
    process.on(signal, () => {
      if (signalled) {
        console.error(`\n${signal} again: exiting without finishing clean-up`);
        process.exit(code);
      }
      signalled = true;
      aborting = true;
      console.error(`\n${signal}: stopping the API and dropping the benchmark databases (again to force)`);
      cleanupAll().finally(() => process.exit(code));
    });
  }
}
