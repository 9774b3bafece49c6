/**
 * The import, end to end — reading (`source.ts`) → checking (`check.ts`) →
 * delivering (`deliver.ts`, `post.ts`) → recording outcomes (`outcomes.ts`:
 * ledger, rejects, report) — with one place deciding whether the run goes
 * on (`governor.ts`). Every row read ends in exactly one count.
 *
 * @module
 */

import { resolve } from "node:path";
import {
  type Clock,
  Delivery,
  type DeliveryOutcome,
  type Job,
  type SendJob,
  systemClock,
} from "./deliver.ts";
import { Governor } from "./governor.ts";
import { idempotencyKey, urlTag } from "./identity.ts";
import { type Ledger, openLedger } from "./ledger.ts";
import type { Logger } from "./log.ts";
import type { ImportMetrics } from "./metrics.ts";
import { Recorder } from "./outcomes.ts";
import { createPoster, type Poster } from "./post.ts";
import type { Progress, ProgressSnapshot } from "./progress.ts";
import type { Random } from "../shared/random.ts";
import { openRejects, rejectsColumns, type RejectsWriter } from "./rejects.ts";
import {
  buildReport,
  emptyTally,
  type Report,
  type SettingInEffect,
  summaryText,
  type Tally,
} from "./report.ts";
import { dryRunPath, writeReport } from "./report_file.ts";
import { type Attempt, describeAttempt } from "./retry.ts";
import { type Checker, createChecker } from "./check.ts";
import type { RowKeys } from "./identity.ts";
import { InputError, openSource, type Source } from "./source.ts";
import type { Delimiter } from "./csv/dialect.ts";
import type { SourceItem } from "./source.ts";
import { checkShape, SHAPE_SAMPLE, type ShapeRecord } from "./csv/shape.ts";

/** What the import needs to know. */
export interface ImportOptions {
  /** The CSV to read. */
  csvIn: string;
  /** Where each movie is POSTed. */
  urlOut: string;
  /** Stop once this many rows have failed; 0 never stops. @default 0 */
  stopOnErrors?: number;
  /** Requests in flight at most. @default 16 */
  concurrency?: number;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  /** Retries after the first attempt. @default 15 */
  maxRetries?: number;
  /** Backoff base, ms. @default 10 */
  retryBaseMs?: number;
  /** Longest backoff wait, ms. @default 10000 */
  retryCapMs?: number;
  /** Give up when every attempt has failed for this long, ms. @default 30000 */
  giveUpMs?: number;
  /** Give up when the service has never answered after this long, ms. @default 10000 */
  connectTimeoutMs?: number;
  /** The rejects file. @default "rejects.csv" */
  rejectsPath?: string;
  /** The JSON report. @default "report.json" */
  reportPath?: string;
  /** The folder of the ledgers (one per URL). @default "ledger" */
  ledgerDir?: string;
  /** Send every row again, ignoring the ledger. @default false */
  fresh?: boolean;
  /** Read and validate only; print the JSON bodies. @default false */
  dryRun?: boolean;
  /** Skip rows whose body an earlier row of the input already has. @default false */
  dedupe?: boolean;
  /** The field separator. @default "auto" */
  delimiter?: "auto" | Delimiter;
  /** The file's encoding. @default "auto" */
  encoding?: "auto" | "utf-8" | "windows-1252";
  /** On a stop, how long to wait for requests in flight, ms. @default 10000 */
  drainTimeoutMs?: number;
  /** One log line per rejected or pending row. @default true */
  logRows?: boolean;
}

/** What the import is given from outside: logging, time, the network, a stop signal. */
export interface ImportDeps {
  /** Where messages go. */
  log: Logger;
  /** Aborted on Ctrl-C / SIGTERM (its reason names the signal). @default never */
  signal?: AbortSignal;
  /** Given a function to call on a second Ctrl-C: it writes the ledger now. @default undefined */
  onEmergency?: (flush: () => void) => void;
  /** Sends one attempt (tests). @default undici's pool (`post.ts`) */
  send?: SendJob;
  /** Time and timers. @default systemClock */
  clock?: Clock;
  /** Jitter. @default Math.random */
  random?: Random;
  /** The year the service takes as the current one. @default this year (UTC) */
  currentYear?: number;
  /** Where a dry run prints its JSON bodies. @default standard output */
  stdout?: (text: string) => Promise<void>;
  /** Where the summary goes. @default an INFO log line */
  summary?: (text: string) => void;
  /** Live progress. @default none */
  progress?: Progress;
  /** Prometheus metrics. @default none */
  metrics?: ImportMetrics;
  /** The settings in effect, for the report. @default [] */
  settings?: SettingInEffect[];
}

/** What came of an import. */
export interface ImportResult {
  exitCode: 0 | 1 | 2 | 3;
  report: Report | null;
}

/** Everything a run holds once set up. */
interface Run {
  o: ImportOptions;
  deps: ImportDeps;
  clock: Clock;
  started: number;
  tally: Tally;
  governor: Governor;
  source: Source;
  ledger: Ledger | null;
  rejects: RejectsWriter;
  recorder: Recorder;
  check: Checker;
  delivery: Delivery | null;
  poster: Poster | null;
  paths: { rejects: string; report: string };
  notReadFrom: number | null;
  stopped: Promise<void>;
  shape: { failures: ShapeRecord[]; settled: boolean };
}

const TICK_MS = 250;

/**
 * Runs one import and writes its rejects file, report and ledger. Problems
 * found before anything is sent (input, settings, outputs, a locked ledger)
 * end with exit code 2 and one line; nothing here throws for bad data.
 *
 * @example
 * ```ts ignore
 * import { runImport } from "./run.ts";
 * import { createLogger } from "./log.ts";
 * const { exitCode } = await runImport(
 *   { csvIn: "data/sample.csv", urlOut: "http://localhost:9009/movies" },
 *   { log: createLogger() },
 * );
 * ```
 */
export async function runImport(
  options: ImportOptions,
  deps: ImportDeps,
): Promise<ImportResult> {
  const run = await prepare(options, deps);
  if (typeof run === "string") {
    deps.log.error(run);
    deps.progress?.done();
    return { exitCode: 2, report: null };
  }
  const tick = setInterval(() => onTick(run), TICK_MS);
  deps.onEmergency?.(() => {
    run.ledger?.flushSync();
    run.rejects.flush();
  });
  try {
    await readAll(run);
    await drain(run);
  } finally {
    clearInterval(tick);
    await closeAll(run);
  }
  return finish(run);
}

/** Opens the input, then every output, before anything is sent; a string is the one-line error. */
async function prepare(
  o: ImportOptions,
  deps: ImportDeps,
): Promise<Run | string> {
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const paths = outputPaths(o);
  const source = await openInput(o, deps.log);
  if (typeof source === "string") return source;
  const { governor, stopped, halt } = governorOf(o, deps);
  const outputs = await openOutputs(o, deps, paths, source, governor);
  if (typeof outputs === "string") {
    await source.close();
    return outputs;
  }
  const { ledger, keys, rejects } = outputs;
  const tally = emptyTally();
  const recorder = new Recorder({
    tally,
    rejects,
    columns: rejectsColumns(source.layout),
    ledger,
    governor,
    log: deps.log,
    logRows: o.logRows,
    count: deps.metrics &&
      ((outcome) => outcome !== "valid" && deps.metrics!.row(outcome)),
  });
  const { poster, delivery } = o.dryRun
    ? { poster: null, delivery: null }
    : createDelivery(o, deps, clock, governor, recorder);
  halt.delivery = delivery;
  const check = createChecker({
    layout: source.layout,
    currentYear: deps.currentYear ?? new Date(started).getUTCFullYear(),
    keys,
    dedupe: o.dedupe,
  });
  const shape = { failures: [], settled: false };
  return {
    o,
    deps,
    clock,
    started,
    tally,
    governor,
    source,
    ledger,
    rejects,
    recorder,
    check,
    delivery,
    poster,
    paths,
    notReadFrom: null,
    stopped,
    shape,
  };
}

/** The input, opened (dialect and layout known), or the one-line error. */
async function openInput(
  o: ImportOptions,
  log: Logger,
): Promise<Source | string> {
  try {
    return await openSource(o.csvIn, {
      delimiter: o.delimiter ?? "auto",
      encoding: o.encoding ?? "auto",
      onWarning: (m) => log.warn(m),
      onInfo: (m) => log.info(m),
    });
  } catch (error) {
    if (error instanceof InputError) {
      return `${error.message} (looked in ${resolve(o.csvIn)})`;
    }
    throw error;
  }
}

/** The governor, told of interrupts; stopping it stops the pool and wakes the drain. */
function governorOf(o: ImportOptions, deps: ImportDeps) {
  let onStop = () => {};
  const stopped = new Promise<void>((r) => onStop = r);
  const halt = { delivery: null as Delivery | null };
  const governor = new Governor({
    url: o.urlOut,
    stopOnErrors: o.stopOnErrors,
    giveUpMs: o.giveUpMs,
    connectTimeoutMs: o.connectTimeoutMs,
    onStop: (end, message) => {
      if (end === "interrupted") deps.log.warn(message);
      else deps.log.error(message);
      halt.delivery?.stop();
      onStop();
    },
  });
  deps.signal?.addEventListener(
    "abort",
    () => governor.interrupt(String(deps.signal?.reason ?? "interrupted")),
    { once: true },
  );
  return { governor, stopped, halt };
}

/** Where the rejects file and the report go: a dry run never overwrites a real run's. */
function outputPaths(o: ImportOptions): { rejects: string; report: string } {
  const rejects = o.rejectsPath ?? "rejects.csv";
  const report = o.reportPath ?? "report.json";
  return o.dryRun
    ? { rejects: dryRunPath(rejects), report: dryRunPath(report) }
    : { rejects, report };
}

/** The report (as "running"), the rejects file and the ledger: each must be writable before a request goes out. */
async function openOutputs(
  o: ImportOptions,
  deps: ImportDeps,
  paths: { rejects: string; report: string },
  source: Source,
  governor: Governor,
): Promise<
  { ledger: Ledger | null; keys: RowKeys; rejects: RejectsWriter } | string
> {
  // The ledger first: while another import holds it, nothing of that
  // import's (its report, its rejects file) may be touched.
  const opened = await openLedger({
    dir: o.ledgerDir ?? "ledger",
    url: o.urlOut,
    fresh: o.fresh,
    readOnly: o.dryRun,
    firstLines: o.dedupe,
    run: {
      pid: Deno.pid,
      started: new Date().toISOString(),
      input: resolve(o.csvIn),
      fresh: o.fresh ?? false,
    },
    onError: (m) => governor.outputFailed(m),
  });
  if (opened.kind === "error") return opened.message;
  const { ledger } = opened;
  const placeholder = {
    tool: "parse-and-post",
    end: "running",
    input: o.csvIn,
    url: o.urlOut,
    pid: Deno.pid,
  };
  const failed = writeReport(paths.report, placeholder) ??
    openRejectsFile(paths.rejects, source, governor);
  if (typeof failed === "string") {
    ledger.close();
    return failed;
  }
  announceLedger(ledger, o, deps.log);
  return {
    ledger: o.dryRun ? null : ledger,
    keys: ledger.keys,
    rejects: failed,
  };
}

/** The rejects file, created (or truncated) with its header, or why not in one line. */
function openRejectsFile(
  path: string,
  source: Source,
  governor: Governor,
): RejectsWriter | string {
  try {
    let opened = false;
    const rejects = openRejects(path, {
      delimiter: source.dialect.delimiter,
      newline: source.dialect.newline,
      columns: rejectsColumns(source.layout).names,
      onError: (m) => opened && governor.outputFailed(m),
    });
    opened = true;
    // Its header could not be written (a full disk): found before anything is sent.
    if (rejects.error === null) return rejects;
    rejects.close();
    return rejects.error;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    return `cannot write the rejects file ${path}: ${
      (error as Error).message.split("\n")[0]
    }`;
  }
}

/** The pool, sending with undici (or the test's `send`) and telling the governor and metrics of each attempt. */
function createDelivery(
  o: ImportOptions,
  deps: ImportDeps,
  clock: Clock,
  governor: Governor,
  recorder: Recorder,
): { poster: Poster | null; delivery: Delivery } {
  const poster = deps.send ? null : createPoster({
    url: o.urlOut,
    timeoutMs: o.timeoutMs,
    connections: o.concurrency,
    connectTimeoutMs: o.connectTimeoutMs,
  });
  const tag = urlTag(o.urlOut);
  const send: SendJob = deps.send ??
    ((job: Job, done) =>
      poster!.post(job.body, idempotencyKey(tag, job.key), done));
  const debug = deps.log.enabled("DEBUG");
  const delivery = new Delivery({
    send,
    onOutcome: (outcome: DeliveryOutcome) => recorder.record(outcome),
    onAttempt: ({ job, attempt, number, delayMs, latencyMs }) => {
      const now = clock.now();
      governor.attempt(attempt, now, now - latencyMs);
      if (deps.metrics) {
        deps.metrics.request(
          attempt.kind === "response" ? attempt.status : "network",
          latencyMs / 1000,
        );
        if (delayMs !== undefined) deps.metrics.retry();
      }
      if (debug) {
        deps.log.debug(attemptLine(job, attempt, number, delayMs), {
          line: job.line,
          attempt: number,
          ...(attempt.kind === "response"
            ? { status: attempt.status }
            : { reason: attempt.error }),
        });
      }
    },
    concurrency: o.concurrency,
    maxRetries: o.maxRetries,
    backoff: { baseMs: o.retryBaseMs, capMs: o.retryCapMs },
    random: deps.random,
    clock,
  });
  return { poster, delivery };
}

function announceLedger(ledger: Ledger, o: ImportOptions, log: Logger): void {
  if (ledger.cutBytes > 0) {
    log.warn(
      `ledger ${ledger.path}: a torn last line (${ledger.cutBytes} bytes, a crash mid-write) was cut`,
    );
  }
  if (ledger.badLines > 0) {
    log.warn(
      `ledger ${ledger.path}: ${ledger.badLines} unreadable lines ignored`,
    );
  }
  if (o.fresh && ledger.held > 0) {
    log.warn(
      `--fresh: the ledger ${ledger.path} holds ${ledger.held} rows delivered to ${o.urlOut}; rows among them are sent again`,
    );
  } else if (ledger.held > 0) {
    log.info(
      `ledger ${ledger.path}: ${ledger.held} rows already delivered to ${o.urlOut} are skipped (--fresh sends them again)`,
    );
  }
}

/** One DEBUG line per attempt. */
function attemptLine(
  job: Job,
  attempt: Attempt,
  number: number,
  delayMs?: number,
): string {
  const what = attempt.kind === "response"
    ? `HTTP ${attempt.status}`
    : describeAttempt(attempt);
  const retry = delayMs === undefined
    ? ""
    : `, retry in ${Math.round(delayMs)} ms`;
  return `line ${job.line}: attempt ${number}: ${what}${retry}`;
}

/** Reads batches until the input ends or the governor stops the run. */
async function readAll(run: Run): Promise<void> {
  const reader = run.source.items.getReader();
  try {
    while (run.governor.going) {
      let next: ReadableStreamReadResult<SourceItem[]>;
      try {
        next = await reader.read();
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        run.governor.inputFailed(error.message);
        break;
      }
      if (next.done) {
        settleShape(run);
        break;
      }
      await readBatch(run, next.value);
    }
    if (!run.governor.going && run.notReadFrom === null) {
      run.notReadFrom = await nextLine(reader);
    }
  } finally {
    reader.releaseLock();
  }
}

/** The line the next record starts on (where reading stopped), or null at the end. */
async function nextLine(
  reader: ReadableStreamDefaultReader<SourceItem[]>,
): Promise<number | null> {
  try {
    for (
      let next = await reader.read();
      !next.done;
      next = await reader.read()
    ) {
      if (next.value.length > 0) return next.value[0].line;
    }
  } catch { /* the input failed: where reading stopped is unknown */ }
  return null;
}

/** Handles one batch of records; stops at once when the run stops. */
async function readBatch(run: Run, batch: SourceItem[]): Promise<void> {
  // Every record of the batch is checked first, so the records (and the
  // text they were cut from) die young; then the rows to send are handed
  // over, in order, as the pool makes room.
  const ready = checkBatch(run, batch);
  if (run.delivery === null) {
    if (ready.length === 0) return;
    for (const job of ready) {
      run.recorder.record({ kind: "valid", line: job.line });
    }
    await (run.deps.stdout ?? writeStdout)(
      ready.map((j) => j.body + "\n").join(""),
    );
    return;
  }
  for (const job of ready) await submit(run, job);
}

/** Counts and checks the batch's records (until the run stops); returns the rows to send. */
function checkBatch(run: Run, batch: SourceItem[]): Job[] {
  const { tally } = run;
  const ready: Job[] = [];
  for (const item of batch) {
    if (!run.governor.going) {
      run.notReadFrom ??= item.line;
      break;
    }
    tally.lines = item.line;
    if (item.kind === "blank") tally.blankLines++;
    else if (item.kind === "header") tally.headerRows++;
    else if (item.kind === "type_row") {
      tally.typeRows++;
      const names = item.fields.join(run.source.dialect.delimiter);
      run.deps.log.info(
        `line ${item.line}: a row of type names (${names}) is not a movie: skipped`,
      );
    } else {
      tally.rowsRead++;
      const checked = run.check(item);
      if (checked.kind === "ready") {
        countValid(run, checked.duplicate);
        ready.push(checked.job);
        continue;
      }
      if (checked.kind === "invalid") {
        watchShape(run, checked.line, checked.rejection.rule, item.fields);
      } else countValid(run, checked.kind === "duplicate" || checked.duplicate);
      run.recorder.record(checked);
    }
  }
  return ready;
}

function countValid(run: Run, duplicate: boolean): void {
  run.tally.valid++;
  if (duplicate) run.tally.duplicates++;
  run.shape.settled = true;
}

/** Hands a row to the pool, waiting for room; a row the run stopped before is pending. */
async function submit(run: Run, job: Job): Promise<void> {
  const delivery = run.delivery!;
  if (!delivery.hasRoom) await delivery.room();
  if (!run.governor.going) {
    run.recorder.record({
      kind: "pending",
      job,
      attempts: 0,
      ambiguous: false,
      cause: "stopped",
      lastError: "not sent: the run stopped",
    });
    return;
  }
  delivery.submit(job);
}

/** Until a row passes: the first rows that all fail the field count may mean the wrong shape. */
function watchShape(
  run: Run,
  line: number,
  rule: string,
  fields: readonly string[],
): void {
  if (run.shape.settled) return;
  if (rule !== "field_count") {
    run.shape.settled = true;
    return;
  }
  run.shape.failures.push({ line, fields });
  if (run.shape.failures.length >= SHAPE_SAMPLE) settleShape(run);
}

function settleShape(run: Run): void {
  if (run.shape.settled || run.shape.failures.length === 0) return;
  run.shape.settled = true;
  const verdict = checkShape({
    records: run.shape.failures,
    width: run.source.layout.width,
    dialect: run.source.dialect,
    header: run.source.layout.header !== null,
  });
  if (verdict.kind === "wrong_shape") run.governor.wrongShape(verdict.message);
}

/** Waits for the rows in progress; on a stop, only for the drain timeout. */
async function drain(run: Run): Promise<void> {
  const delivery = run.delivery;
  if (delivery === null) return;
  await Promise.race([delivery.idle(), run.stopped]);
  if (delivery.inProgress === 0) return;
  delivery.stop();
  const wait = delay(run.clock, run.o.drainTimeoutMs ?? 10_000);
  await Promise.race([delivery.idle(), wait.promise]);
  wait.cancel();
  if (delivery.inProgress > 0) {
    run.deps.log.warn(
      `${delivery.inFlight} requests still unanswered after the drain timeout: their rows stay pending (ambiguous)`,
    );
    delivery.abandon();
  }
}

function delay(
  clock: Clock,
  ms: number,
): { promise: Promise<void>; cancel(): void } {
  let id: unknown;
  const promise = new Promise<void>((resolve) =>
    id = clock.setTimeout(resolve, ms)
  );
  return { promise, cancel: () => clock.clearTimeout(id) };
}

/** Time-based rules and progress, four times a second. */
function onTick(run: Run): void {
  run.governor.check(run.clock.now());
  run.deps.progress?.update(snapshot(run));
  run.deps.metrics?.inFlight(run.delivery?.inFlight ?? 0);
}

function snapshot(run: Run): ProgressSnapshot {
  const t = run.tally;
  return {
    bytesRead: run.source.bytesRead(),
    totalBytes: run.source.size,
    delivered: run.o.dryRun ? t.valid : t.delivered,
    rejected: t.invalid + t.refused,
    alreadyDelivered: t.alreadyDelivered,
    retrying: run.delivery?.retrying ?? 0,
    inFlight: run.delivery?.inFlight ?? 0,
  };
}

/** Closes every output; the ledger last, after the final deliveries. */
async function closeAll(run: Run): Promise<void> {
  if (run.delivery) {
    run.tally.requests = run.delivery.requests;
    run.tally.retries = run.delivery.retries;
  }
  await run.poster?.close();
  await run.source.close();
  run.governor.concludeSetup();
  run.recorder.finish();
  run.rejects.close();
  run.ledger?.close();
  run.deps.progress?.done();
}

/** Builds and writes the report, prints the summary, and says the exit code. */
function finish(run: Run): ImportResult {
  const report = buildReport({
    options: run.o,
    paths: run.paths,
    tally: run.tally,
    end: run.governor.end ?? "complete",
    message: run.governor.message,
    started: run.started,
    now: run.clock.now(),
    latency: run.delivery?.latency ?? null,
    notReadFrom: run.notReadFrom,
    pending: run.recorder.pending,
    ambiguous: run.recorder.ambiguous,
    ledger: run.ledger,
    settings: run.deps.settings ?? [],
  });
  const failed = writeReport(run.paths.report, report);
  if (failed !== null) {
    run.deps.log.error(failed);
    if (report.exitCode === 0) report.exitCode = 1;
  }
  run.deps.metrics?.finish(report.exitCode === 0);
  (run.deps.summary ?? ((t: string) => run.deps.log.info(`summary\n${t}`)))(
    summaryText(report),
  );
  return { exitCode: report.exitCode as ImportResult["exitCode"], report };
}

const encoder = new TextEncoder();

async function writeStdout(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += await Deno.stdout.write(bytes.subarray(written));
  }
}
