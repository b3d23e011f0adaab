// Mocha's spec reporter, plus one closing line `N passed, N failed[, N skipped]`
// that CI reads as the result of the run.
"use strict";
const Mocha = require("mocha");

class TslmReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes = 0, failures = 0, pending = 0 } = runner.stats || {};
      // Printed after the spec reporter's own epilogue.
      process.nextTick(() => {
        process.stdout.write(`\n${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ""}\n`);
      });
    });
  }
}

module.exports = TslmReporter;
