// Ends the run with one plain line, "N passed, N failed", that CI systems read without knowing jest's format.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(
      `\njest: ${results.numPassedTests} passed, ${results.numFailedTests} failed` +
        (skipped ? `, ${skipped} skipped` : '') +
        '\n',
    );
  }
}
module.exports = SummaryReporter;
