import autocannon from 'autocannon';

/**
 * Drives POST /graphql with `clients` keep-alive connections (one request in flight on each), a warm-up that is
 * not counted, then a measured run. `buildBody()` returns the JSON body of each request: a constant document with
 * fresh variables. Successes are counted in the database (`countRows`), not from responses.
 */
export async function runLoad({ url, headers, buildBody, clients, warmupSeconds, durationSeconds, countRows, label }) {
  if (warmupSeconds > 0) {
    process.stdout.write(`  ${label}: warming up ${warmupSeconds} s with ${clients} clients…\n`);
    await drive({ url, headers, buildBody, clients, seconds: warmupSeconds });
  }
  const before = await countRows();
  process.stdout.write(`  ${label}: measuring ${durationSeconds} s with ${clients} clients…\n`);
  const { result, tally } = await drive({ url, headers, buildBody, clients, seconds: durationSeconds });
  const after = await countRows();

  const seconds = result.duration; // autocannon's own elapsed time for the measured run
  const ok = sortedCopy(tally.okLatencies);
  return {
    rowsCreated: after - before,
    seconds,
    perSecond: (after - before) / seconds,
    responses: tally.responses,
    okResponses: tally.okLatencies.length,
    non2xx: result.non2xx,
    socketErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    graphqlErrors: tally.graphqlErrors,
    errorCodes: tally.errorCodes,
    errorSamples: tally.errorSamples,
    latencyMs: {
      p50: percentile(ok, 50),
      p90: percentile(ok, 90),
      p99: percentile(ok, 99),
      max: ok.length ? ok[ok.length - 1] : null,
      mean: ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null,
    },
  };
}

const MAX_PARSED_ERRORS = 200;
const MAX_SAMPLES = 5;

/**
 * Like runLoad, for reads (or writes counted by response): successes are the 2xx responses without GraphQL errors.
 * `path` is the HTTP path (default /graphql). Returns requests per second, latency percentiles and error counts.
 */
export async function measureRequests({ url, path = '/graphql', headers = {}, buildBody, clients, warmupSeconds, durationSeconds, label }) {
  if (warmupSeconds > 0) {
    process.stdout.write(`  ${label}: warming up ${warmupSeconds} s with ${clients} clients…\n`);
    await drive({ url, path, headers, buildBody, clients, seconds: warmupSeconds });
  }
  process.stdout.write(`  ${label}: measuring ${durationSeconds} s with ${clients} clients…\n`);
  const { result, tally } = await drive({ url, path, headers, buildBody, clients, seconds: durationSeconds });
  const ok = sortedCopy(tally.okLatencies);
  return {
    perSecond: ok.length / result.duration,
    seconds: result.duration,
    okResponses: ok.length,
    errors: tally.responses - ok.length + result.errors,
    errorCodes: tally.errorCodes,
    errorSamples: tally.errorSamples,
    latencyMs: { p50: percentile(ok, 50), p99: percentile(ok, 99) },
  };
}

async function drive({ url, path = '/graphql', headers, buildBody, clients, seconds }) {
  const tally = { responses: 0, okLatencies: [], graphqlErrors: 0, errorCodes: {}, errorSamples: [], parsed: 0 };
  let lastOk = false;
  const instance = autocannon({
    url,
    connections: clients,
    pipelining: 1,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', ...headers },
        setupRequest: (req) => ({ ...req, body: buildBody() }),
        // Called synchronously just before autocannon's 'response' event for the same response.
        onResponse: (status, body) => {
          tally.responses++;
          const hasErrors = body.includes('"errors"');
          lastOk = status >= 200 && status < 300 && !hasErrors;
          if (hasErrors) tally.graphqlErrors++;
          if (lastOk || tally.parsed >= MAX_PARSED_ERRORS) return;
          tally.parsed++;
          for (const key of errorKeys(status, body)) {
            tally.errorCodes[key] = (tally.errorCodes[key] ?? 0) + 1;
          }
          if (tally.errorSamples.length < MAX_SAMPLES) tally.errorSamples.push({ status, body: body.slice(0, 500) });
        },
      },
    ],
  });
  // Our own histogram: autocannon's rounds to whole milliseconds, too coarse for p50 here.
  instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
    if (lastOk) tally.okLatencies.push(responseTimeMs);
  });
  const result = await instance;
  return { result, tally };
}

function errorKeys(status, body) {
  try {
    const parsed = JSON.parse(body);
    if (Array.isArray(parsed.errors) && parsed.errors.length) {
      return parsed.errors.map((e) => `${e.extensions?.code ?? 'NO_CODE'}: ${String(e.message).slice(0, 120)}`);
    }
  } catch {
    // not JSON
  }
  return [`HTTP ${status}`];
}

function sortedCopy(values) {
  return Float64Array.from(values).sort();
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
