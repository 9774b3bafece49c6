/**
 * The import, end to end: source (CSV records with line numbers) → schema
 * (normalise and validate each row) → delivery (pool, retries) → outcomes
 * (rejects file, journal, report). Every row read ends in exactly one count.
 *
 * @module
 */

import {
  type Clock,
  Delivery,
  type DeliveryOutcome,
  systemClock,
} from "./deliver.ts";
import type { Histogram } from "./histogram.ts";
import { type Journal, JournalMismatchError, openJournal } from "./journal.ts";
import type { Logger } from "./log.ts";
import {
  type Column,
  COLUMNS,
  type MovieValidator,
  movieValidator,
  type Rejection,
} from "./movie.ts";
import { Poster, type Send } from "./post.ts";
import type { Random } from "../shared/random.ts";
import { openRejects, type RejectsWriter } from "./rejects.ts";
import {
  emptyTally,
  reasonKey,
  type Report,
  rowsPerSecond,
  type RunEnd,
  summaryText,
} from "./report.ts";
import { IGNORED_COLUMNS, normalizeName } from "./csv/layout.ts";
import {
  InputError,
  openSource,
  type Source,
  type SourceItem,
} from "./source.ts";

/** What the import needs to know (the importer's configuration, less logging). */
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
  /** Give up when the service has not answered at all for this long, ms. @default 30000 */
  giveUpMs?: number;
  /** The rejects file. @default "rejects.csv" */
  rejectsPath?: string;
  /** The JSON report. @default "report.json" */
  reportPath?: string;
  /** The resume journal; `null` for none. @default "import.journal" */
  journalPath?: string | null;
  /** Ignore the journal and start over. @default false */
  fresh?: boolean;
  /** Read and validate only; print the JSON bodies. @default false */
  dryRun?: boolean;
  /** The field separator. @default "auto" */
  delimiter?: "auto" | ";" | ",";
  /** The file's encoding. @default "auto" */
  encoding?: "auto" | "utf-8" | "windows-1252";
  /** On a stop, how long to wait for requests in flight, ms. @default 10000 */
  drainTimeoutMs?: number;
  /** INFO progress lines every this many ms. @default 5000 */
  progressMs?: number;
}

/** What the import is given from outside: logging, time, the network, a stop signal. */
export interface ImportDeps {
  /** Where messages go. */
  log: Logger;
  /** Aborted on Ctrl-C / SIGTERM. @default never */
  signal?: AbortSignal;
  /** Sends one request. @default a {@link Poster} with the timeout */
  send?: Send;
  /** Time and timers. @default systemClock */
  clock?: Clock;
  /** Jitter. @default Math.random */
  random?: Random;
  /** The year the service takes as the current one. @default this year (UTC) */
  currentYear?: number;
  /** Where a dry run prints its JSON bodies. @default standard output */
  stdout?: (text: string) => Promise<void>;
  /** Where the summary goes. @default log lines' writer (stderr) */
  summary?: (text: string) => void;
}

/** What came of an import. */
export interface ImportResult {
  exitCode: 0 | 1 | 2 | 3;
  report: Report;
}

/**
 * Exit codes: 0 every valid row delivered; 1 some valid rows could not be
 * delivered; 2 usage, configuration or input error before anything was
 * sent; 3 stopped early (STOP_ON_ERRORS, Ctrl-C).
 */
export type ExitCode = ImportResult["exitCode"];

/** Milliseconds to two decimals, for the report. */
const round = (ms: number) => Math.round(ms * 100) / 100;

const encoder = new TextEncoder();

async function writeStdout(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += await Deno.stdout.write(bytes.subarray(written));
  }
}

/** A short, stable id for this input and URL: the `Idempotency-Key` prefix. */
function importId(
  input: string,
  size: number,
  mtimeMs: number,
  url: string,
): string {
  let hash = 0x811c9dc5;
  for (const ch of `${input}\0${size}\0${mtimeMs}\0${url}`) {
    hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
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

/**
 * Runs one import and writes its rejects file, report and journal. Problems
 * found before anything is sent (input, journal) end with exit code 2 and a
 * one-line message; nothing here throws for bad data.
 *
 * @example
 * ```ts ignore
 * import { runImport } from "./import.ts";
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
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const startedAt = new Date(started).toISOString();
  const tally = emptyTally();
  const dryRun = options.dryRun ?? false;
  const rejectsPath = options.rejectsPath ?? "rejects.csv";
  const reportPath = options.reportPath ?? "report.json";
  const journalPath = dryRun ? null : options.journalPath ?? "import.journal";
  const currentYear = deps.currentYear ?? new Date(started).getUTCFullYear();
  const stopOnErrors = options.stopOnErrors ?? 0;
  let latency: Histogram | null = null;

  const finish = async (
    end: RunEnd,
    exitCode: ExitCode,
  ): Promise<ImportResult> => {
    const elapsedMs = clock.now() - started;
    const { reasons, ...counts } = tally;
    const report: Report = {
      tool: "parse-and-post",
      input: options.csvIn,
      url: dryRun ? null : options.urlOut,
      dryRun,
      end,
      exitCode,
      startedAt,
      finishedAt: new Date(clock.now()).toISOString(),
      elapsedMs,
      rowsPerSecond: rowsPerSecond(tally, elapsedMs),
      counts,
      latencyMs: {
        p50: round(latency?.quantile(0.5) ?? 0),
        p99: round(latency?.quantile(0.99) ?? 0),
        max: round(latency?.max ?? 0),
      },
      reasons,
      rejectsFile: rejectsPath,
      reportFile: reportPath,
      journal: journalPath,
    };
    await Deno.writeTextFile(
      reportPath,
      JSON.stringify(report, null, 2) + "\n",
    );
    log.flush();
    // Stopped before reading anything: the one-line error says it all.
    if (exitCode !== 2 || tally.lines > 0) {
      (deps.summary ?? ((t: string) => log.info(`summary\n${t}`)))(
        summaryText(report),
      );
    }
    return { exitCode, report };
  };

  // 1. Source, journal, rejects: any problem here is exit 2, nothing sent.
  let source: Source;
  let journal: Journal | null = null;
  let keyPrefix = "";
  try {
    source = await openSource(options.csvIn, {
      delimiter: options.delimiter ?? "auto",
      encoding: options.encoding ?? "auto",
      onWarning: (m) => log.warn(m),
      onInfo: (m) => log.info(m),
    });
  } catch (error) {
    if (error instanceof InputError) {
      log.error(error.message);
      return finish("input_error", 2);
    }
    throw error;
  }
  try {
    const info = await Deno.stat(options.csvIn);
    const input = await Deno.realPath(options.csvIn);
    const mtimeMs = info.mtime?.getTime() ?? 0;
    keyPrefix = importId(input, info.size, mtimeMs, options.urlOut);
    if (journalPath !== null) {
      journal = await openJournal(journalPath, {
        input,
        size: info.size,
        mtimeMs,
        url: options.urlOut,
      }, { fresh: options.fresh });
      const start = journal.start;
      if (start.kind === "resumed") {
        log.info(
          `resuming from ${journalPath}: ${start.delivered} rows already delivered are skipped (--fresh to start over)`,
        );
      } else if (start.kind === "fresh") {
        log.info(
          `--fresh: ignoring ${start.previous} rows recorded in ${journalPath}`,
        );
      } else if (start.kind === "other_import") {
        log.info(
          `${journalPath} belonged to another import (${start.previous.input} → ${start.previous.url}); starting a new journal`,
        );
      }
    }
  } catch (error) {
    await source.close();
    if (error instanceof JournalMismatchError) {
      log.error(error.message);
      return finish("input_error", 2);
    }
    throw error;
  }
  const layout = source.layout;
  // A rejects file imported again: its own `line` and `reason` columns are
  // dropped, so the new rejects file has the same shape.
  const header = layout.header ?? [...COLUMNS];
  const dropped = new Set(
    header.flatMap((name, i) =>
      IGNORED_COLUMNS.includes(normalizeName(name)) ? [i] : []
    ),
  );
  const original = (fields: readonly string[]) =>
    dropped.size === 0 ? fields : fields.filter((_, i) => !dropped.has(i));
  const rejects: RejectsWriter = await openRejects(rejectsPath, {
    delimiter: source.dialect.delimiter,
    newline: source.dialect.newline,
    columns: original(header),
  });

  // 2. The pipeline.
  const validate: MovieValidator = movieValidator(currentYear);
  const index = layout.index as Record<Column, number>;
  let errors = 0;
  let end = "complete" as RunEnd;
  const reject = (
    line: number,
    fields: readonly string[],
    rejection: Rejection,
  ) => {
    tally.invalid++;
    errors++;
    const key = reasonKey(rejection);
    tally.reasons[key] = (tally.reasons[key] ?? 0) + 1;
    rejects.add(line, rejection.message, original(fields));
    log.row(`line ${line}: ${rejection.message}`);
  };
  const onOutcome = (outcome: DeliveryOutcome) => {
    const { job } = outcome;
    switch (outcome.kind) {
      case "delivered":
        tally.delivered++;
        journal?.record(job.line);
        break;
      case "refused": {
        tally.refused++;
        errors++;
        const key = `service answered HTTP ${outcome.status}`;
        tally.reasons[key] = (tally.reasons[key] ?? 0) + 1;
        const reason = `service refused it: ${outcome.message}`;
        rejects.add(job.line, reason, original(job.fields));
        log.row(`line ${job.line}: ${reason}`);
        break;
      }
      case "failed": {
        tally.failed++;
        errors++;
        const key = outcome.cause === "unreachable"
          ? "delivery: service unreachable"
          : "delivery: failed after retries";
        tally.reasons[key] = (tally.reasons[key] ?? 0) + 1;
        rejects.add(job.line, outcome.reason, original(job.fields));
        log.row(`line ${job.line}: ${outcome.reason}`, "ERROR");
        break;
      }
      case "unfinished":
        tally.notReached++;
        break;
    }
  };
  const poster = new Poster({ timeoutMs: options.timeoutMs });
  const send: Send = deps.send ?? ((...args) => poster.post(...args));
  const delivery = new Delivery({
    send: (job) => send(options.urlOut, job.body, `${keyPrefix}-${job.line}`),
    onOutcome,
    onAttempt: log.enabled("DEBUG")
      ? (job, attempt, n, delayMs) =>
        log.debug(
          `line ${job.line}: attempt ${n}: ${
            attempt.kind === "response"
              ? `HTTP ${attempt.status}`
              : attempt.error
          }${
            delayMs === undefined ? "" : `, retry in ${Math.round(delayMs)} ms`
          }`,
        )
      : undefined,
    concurrency: options.concurrency,
    maxRetries: options.maxRetries,
    backoff: { baseMs: options.retryBaseMs, capMs: options.retryCapMs },
    giveUpMs: options.giveUpMs,
    random: deps.random,
    clock,
  });
  latency = delivery.latency;
  let onStop = () => {};
  const stopped = new Promise<void>((resolve) => onStop = resolve);
  const stop = (why: RunEnd) => {
    if (end !== "complete") return;
    end = why;
    delivery.stop();
    onStop();
    if (why === "interrupted") {
      log.warn(
        "interrupted: finishing requests in flight, then writing the report",
      );
    }
    if (why === "stopped_on_errors") {
      log.error(`STOP_ON_ERRORS=${stopOnErrors} reached: stopping`);
    }
  };
  const checkStop = () => {
    if (deps.signal?.aborted) stop("interrupted");
    else if (delivery.gaveUp !== null) stop("gave_up");
    else if (stopOnErrors > 0 && errors >= stopOnErrors) {
      stop("stopped_on_errors");
    }
  };

  const progressMs = options.progressMs ?? 5000;
  let progress: unknown;
  const tick = () => {
    const now = clock.now();
    const rate = Math.round(
      tally.rowsRead / Math.max(0.001, (now - started) / 1000),
    );
    log.info(
      `line ${tally.lines}: ${
        dryRun ? `${tally.valid} valid` : `${tally.delivered} delivered`
      }, ${
        tally.invalid + tally.refused + tally.failed
      } rejected, ${delivery.inFlight} in flight, ${rate} rows/s`,
    );
    void journal?.flush();
    void rejects.flush();
    progress = clock.setTimeout(tick, progressMs);
  };
  progress = clock.setTimeout(tick, progressMs);

  const out = deps.stdout ?? writeStdout;
  // Ctrl-C stops delivery at once, which also wakes a reader waiting for room.
  const onAbort = () => stop("interrupted");
  deps.signal?.addEventListener("abort", onAbort, { once: true });
  const reader = source.items.getReader();
  try {
    while (true) {
      let batch: SourceItem[];
      try {
        const next = await reader.read();
        if (next.done) break;
        batch = next.value;
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        log.error(error.message);
        stop("input_error");
        break;
      }
      const printed: string[] = [];
      for (const item of batch) {
        tally.lines = item.line;
        if (item.kind === "blank") {
          tally.blankLines++;
          continue;
        }
        if (item.kind === "header") {
          tally.headerRows++;
          continue;
        }
        if (item.kind === "type_row") {
          tally.typeRows++;
          log.info(
            `line ${item.line}: a row of type names (${
              item.fields.join(source.dialect.delimiter)
            }) is not a movie: skipped`,
          );
          continue;
        }
        tally.rowsRead++;
        if (end !== "complete") {
          tally.notReached++;
          continue;
        }
        if (item.kind === "malformed") {
          reject(item.line, item.fields, {
            field: "row",
            rule: "malformed",
            message: item.reason,
          });
        } else if (item.fields.length !== layout.width) {
          reject(item.line, item.fields, {
            field: "row",
            rule: "field_count",
            message: `wrong number of fields: ${
              original(item.fields).length
            }, expected ${layout.width - dropped.size}`,
          });
        } else if (journal?.has(item.line)) {
          tally.alreadyDelivered++;
        } else {
          const result = validate(item.fields, index);
          if (!result.ok) {
            reject(item.line, item.fields, result.rejection);
          } else {
            tally.valid++;
            if (dryRun) {
              printed.push(result.body, "\n");
            } else {
              if (!delivery.hasRoom) await delivery.room();
              checkStop();
              if (end !== "complete") {
                tally.notReached++;
                continue;
              }
              delivery.submit({
                line: item.line,
                fields: item.fields,
                body: result.body,
              });
            }
          }
        }
        checkStop();
      }
      if (printed.length > 0) await out(printed.join(""));
      checkStop();
    }
    // 3. Drain: wait for rows in progress; on a stop, only for a while.
    await Promise.race([delivery.idle(), stopped]);
    checkStop();
    if (delivery.inProgress > 0) {
      const wait = delay(clock, options.drainTimeoutMs ?? 10_000);
      await Promise.race([delivery.idle(), wait.promise]);
      wait.cancel();
      if (delivery.inProgress > 0) {
        log.warn(
          `${delivery.inFlight} requests still unanswered after the drain timeout: counted as not reached`,
        );
        delivery.abandon();
      }
    }
  } finally {
    clock.clearTimeout(progress);
    deps.signal?.removeEventListener("abort", onAbort);
    poster.close();
    reader.releaseLock();
    await source.close();
    tally.requests = delivery.requests;
    tally.retries = delivery.retries;
    await rejects.close();
    await journal?.close();
  }
  if (delivery.gaveUp !== null) log.error(`gave up: ${delivery.gaveUp}`);
  const exitCode: ExitCode =
    end === "interrupted" || end === "stopped_on_errors"
      ? 3
      : end === "input_error"
      ? (tally.requests === 0 ? 2 : 1)
      : tally.refused + tally.failed + tally.notReached > 0
      ? 1
      : 0;
  return finish(end, exitCode);
}
