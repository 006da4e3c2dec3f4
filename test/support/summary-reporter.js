/** Ends the run with one plain line CI can read: "jest: N passed, N failed, N skipped". */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: passed, numFailedTests, numPendingTests: skipped, numFailedTestSuites } = results;
    // A suite that fails to load has no failed tests; count it so the line never reads "0 failed" on a broken run.
    const failed = numFailedTests || numFailedTestSuites;
    process.stdout.write(`\njest: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
