// Runs every server audit of graphql-http (the GraphQL-over-HTTP spec's conformance suite)
// against a GraphQL endpoint and prints each result.
//
//   npm ci && node audit.mjs http://127.0.0.1:8000/graphql
//   node audit.mjs --json URL     one JSON document instead of lines, for tests
//
// Exits 0 when every MUST and SHOULD audit passes, 1 when one fails (a failing MAY is
// only reported), 2 when an audit could not run at all (server down, timeout), 64 on bad usage.

import { serverAudits } from 'graphql-http';

const REQUEST_TIMEOUT_MS = 10_000;
const USAGE = 'usage: node audit.mjs [--json] <graphql-url>';

function parseArguments(argv) {
  const json = argv.includes('--json');
  const positional = argv.filter((argument) => argument !== '--json');
  if (positional.length !== 1 || positional[0].startsWith('-')) return null;
  try {
    const url = new URL(positional[0]);
    return ['http:', 'https:'].includes(url.protocol) ? { url: url.href, json } : null;
  } catch {
    return null;
  }
}

function requirementOf(name) {
  return name.split(' ', 1)[0];
}

// A hung server must fail the audit, not the caller's patience.
//
// Every request also says `apollo-require-preflight: true`: the API refuses a GET without
// a header that a browser could not send cross-site without a CORS preflight (its CSRF
// prevention), and this header is how a non-browser client talks to such a server. It
// changes nothing else the audits check.
function fetchWithTimeout(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('apollo-require-preflight', 'true');
  return fetch(input, { ...init, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
}

async function runAudit({ id, name, fn }) {
  const requirement = requirementOf(name);
  try {
    const result = await fn();
    return {
      id,
      name,
      requirement,
      status: result.status,
      reason: result.status === 'ok' ? null : result.reason,
      httpStatus: result.status === 'ok' ? null : (result.response?.status ?? null),
    };
  } catch (error) {
    // graphql-http throws (rather than failing the audit) when it cannot get an answer.
    return {
      id,
      name,
      requirement,
      status: 'fatal',
      reason: String(error?.cause?.message ?? error?.message ?? error),
      httpStatus: null,
    };
  }
}

function failsTheRun(result) {
  return (
    result.status === 'fatal' ||
    (result.status !== 'ok' && ['MUST', 'SHOULD'].includes(result.requirement))
  );
}

function summarize(results) {
  const summary = {};
  for (const requirement of ['MUST', 'SHOULD', 'MAY']) {
    const ofLevel = results.filter((result) => result.requirement === requirement);
    summary[requirement] = {
      total: ofLevel.length,
      passed: ofLevel.filter((result) => result.status === 'ok').length,
    };
  }
  return summary;
}

function printLines(url, results, summary) {
  console.log(`graphql-http ${results.length} server audits against ${url}`);
  for (const result of results) {
    const mark = result.status === 'ok' ? 'PASS' : `FAIL (${result.status})`;
    const detail =
      result.status === 'ok'
        ? ''
        : ` -- ${result.reason}${result.httpStatus === null ? '' : ` [HTTP ${result.httpStatus}]`}`;
    console.log(`${mark.padEnd(14)} ${result.id}  ${result.name}${detail}`);
  }
  const counts = Object.entries(summary)
    .map(([requirement, { total, passed }]) => `${requirement} ${passed}/${total}`)
    .join(', ');
  console.log(`Audits passed: ${counts}`);
}

const options = parseArguments(process.argv.slice(2));
if (options === null) {
  console.error(USAGE);
  process.exit(64);
}

const audits = serverAudits({ url: options.url, fetchFn: fetchWithTimeout });
const results = [];
// One at a time: the output reads in the suite's order and the server sees no burst.
for (const audit of audits) {
  results.push(await runAudit(audit));
}
const summary = summarize(results);

if (options.json) {
  console.log(JSON.stringify({ url: options.url, summary, results }, null, 2));
} else {
  printLines(options.url, results, summary);
}

if (results.some((result) => result.status === 'fatal')) {
  process.exitCode = 2;
} else if (results.some(failsTheRun)) {
  process.exitCode = 1;
}
