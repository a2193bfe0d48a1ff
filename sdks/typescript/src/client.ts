import { createClient, createConfig, type Client } from './generated/client/index.js';
import * as sdk from './generated/sdk.gen.js';
import type * as T from './generated/types.gen.js';
import { TenxError } from './errors.js';
import { checkApiVersion } from './version.js';

export interface RetryOptions {
  /** Tries in all, the first included (default 4). */
  maxAttempts?: number;
  /** The first backoff; doubled each try, with full jitter (default 250 ms). */
  baseDelayMs?: number;
  /** The longest backoff (default 8 s). */
  maxDelayMs?: number;
  /** A `Retry-After` longer than this is not waited for: the error is thrown (default 60 s). */
  maxRetryAfterMs?: number;
}

export interface TenxOptions {
  /** The API's origin, e.g. `https://api.example.com` (no trailing path). */
  baseUrl: string;
  /** A JWT or a personal access token (`tenx_pat_…`). */
  token?: string;
  /** The handle (tenant) the handle-scoped helpers act on. */
  handle?: string;
  /** Each try's time limit (default 30 s). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Another fetch (tests, instrumentation); the platform's by default. */
  fetch?: typeof fetch;
}

/** A conversion as `conversions.record` takes it: the API's body, the key optional. */
export type RecordConversion = Omit<T.ConversionRequest, 'idempotencyKey'> & { idempotencyKey?: string };

type Answer<D> = { data?: D; error?: unknown; response?: Response };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Generated = (options: any) => Promise<any>;
/** The options of a generated function, less the client (this one's). */
export type OptionsOf<F extends Generated> = Omit<Parameters<F>[0], 'client'>;
/** The data of a generated function's successful answer. */
export type DataOf<F extends Generated> = NonNullable<Extract<Awaited<ReturnType<F>>, { data: unknown }>['data']>;
type ItemOf<F extends Generated> = DataOf<F> extends { items: Array<infer I> } ? I : never;
type Page<I> = { items: I[]; nextCursor?: string | null };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seconds (`120`) or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value == null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The data of a successful answer, or the API's error as a TenxError. */
export function unwrap<D>(answer: Answer<D>): D {
  if (answer.response === undefined) {
    if (answer.error instanceof TenxError) throw answer.error;
    const cause = answer.error;
    const words = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    throw new TenxError('network_error', `no answer from the server (${words})`, undefined, undefined, { cause });
  }
  if (answer.response.ok && answer.error === undefined) return answer.data as D;
  throw TenxError.fromAnswer(answer.response, answer.error);
}

/**
 * The 10x client: the generated functions (`tenx.call(sdk.getLink, …)`, every route of the
 * library) on a client that sends the token and refuses another major API version, and helpers
 * for what generation does not give: safe conversion retries, pagination, CSV streaming.
 */
export class Tenx {
  readonly client: Client;
  readonly handle: string | undefined;
  private readonly timeoutMs: number;
  private readonly retry: Required<RetryOptions>;

  constructor(options: TenxOptions) {
    const base = options.fetch ?? globalThis.fetch.bind(globalThis);
    // Every answer passes here: a server of another major version is refused before its body
    // is read.
    const checked: typeof fetch = async (input, init) => {
      const response = await base(input, init);
      checkApiVersion(response.headers.get('x-tenx-api-version'), response.status);
      return response;
    };
    this.client = createClient(
      createConfig({ baseUrl: options.baseUrl.replace(/\/+$/, ''), auth: options.token, fetch: checked }),
    );
    this.handle = options.handle;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = {
      maxAttempts: options.retry?.maxAttempts ?? 4,
      baseDelayMs: options.retry?.baseDelayMs ?? 250,
      maxDelayMs: options.retry?.maxDelayMs ?? 8_000,
      maxRetryAfterMs: options.retry?.maxRetryAfterMs ?? 60_000,
    };
  }

  private need(handle?: string): string {
    const h = handle ?? this.handle;
    if (!h) throw new TypeError('no handle: pass one to new Tenx({handle}) or to the call');
    return h;
  }

  /** Calls a generated function on this client; its data, or a TenxError. Never retried. */
  async call<F extends Generated>(fn: F, options: OptionsOf<F>): Promise<DataOf<F>> {
    return unwrap<DataOf<F>>(await fn({ signal: AbortSignal.timeout(this.timeoutMs), ...options, client: this.client }));
  }

  /**
   * Every item of a cursor-paginated list, page after page (`nextCursor`), e.g.
   * `for await (const link of tenx.paginate(sdk.listLinks, {path: {handle}}))`.
   */
  async *paginate<F extends Generated>(fn: F, options: OptionsOf<F>): AsyncGenerator<ItemOf<F>> {
    let cursor: string | undefined;
    do {
      const query = { ...((options as { query?: object }).query ?? {}), ...(cursor ? { cursor } : {}) };
      const page = (await this.call(fn, { ...options, query })) as Page<ItemOf<F>>;
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /**
   * Runs one keyed request, retrying it safely: the same key on every try; a network error,
   * a timeout, 429 or 5xx is tried again after an exponential backoff with full jitter (or the
   * answer's `Retry-After`), at most `maxAttempts` tries. Only keyed requests come here: a
   * request without an idempotency key is never retried.
   */
  async withRetries<D>(idempotencyKey: string, attempt: (signal: AbortSignal) => Promise<Answer<D>>): Promise<D> {
    if (!idempotencyKey) throw new TypeError('withRetries needs an idempotency key');
    for (let n = 1; ; n++) {
      let answer: Answer<D>;
      try {
        answer = await attempt(AbortSignal.timeout(this.timeoutMs));
      } catch (error) {
        answer = { error };
      }
      const status = answer.response?.status;
      if (answer.response !== undefined && answer.response.ok && answer.error === undefined) {
        return answer.data as D;
      }
      const retryable =
        status === undefined ? !(answer.error instanceof TenxError) : status === 429 || status >= 500;
      if (!retryable || n >= this.retry.maxAttempts) return unwrap(answer);
      const backoff = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (n - 1));
      let wait = Math.random() * backoff;
      const after = retryAfterMs(answer.response?.headers.get('retry-after'));
      if (after !== undefined) {
        if (after > this.retry.maxRetryAfterMs) return unwrap(answer);
        wait = after;
      }
      await sleep(wait);
    }
  }

  readonly links = {
    /** Creates or replaces the link `slug` (`PUT …/links/{slug}`). */
    upsert: (slug: string, link: T.LinkSpec, handle?: string) =>
      this.call(sdk.upsertLink, { path: { handle: this.need(handle), slug }, body: link }),
    get: (slug: string, handle?: string) => this.call(sdk.getLink, { path: { handle: this.need(handle), slug } }),
    /** Every link, page after page. */
    list: (query: { limit?: number } = {}, handle?: string) =>
      this.paginate(sdk.listLinks, { path: { handle: this.need(handle) }, query }),
  };

  readonly conversions = {
    /**
     * Records a sale your server saw (`POST …/conversions`, verified): always with an
     * idempotency key (a random one when you give none: keep your order id there), sent in the
     * body and as `idempotency-key`, and retried safely. A replay answers the first conversion
     * (`deduped: true`, the same `conversionId`).
     */
    record: (conversion: RecordConversion, handle?: string) => {
      const idempotencyKey = conversion.idempotencyKey ?? globalThis.crypto.randomUUID();
      const body = { ...conversion, idempotencyKey } as T.ConversionRequest;
      const h = this.need(handle);
      return this.withRetries(idempotencyKey, (signal) =>
        sdk.submitVerifiedConversion({
          client: this.client,
          path: { handle: h },
          body,
          headers: { 'idempotency-key': idempotencyKey },
          signal,
        }),
      );
    },
    get: (conversionId: string, handle?: string) =>
      this.call(sdk.getConversion, { path: { handle: this.need(handle), conversionId } }),
    list: (query: NonNullable<T.ListConversionsData['query']> = {}, handle?: string) =>
      this.paginate(sdk.listConversions, { path: { handle: this.need(handle) }, query }),
  };

  readonly partners = {
    create: (partner: T.PartnerCreateRequest, handle?: string) =>
      this.call(sdk.createPartner, { path: { handle: this.need(handle) }, body: partner }),
    /** The balances per partner and currency (one partner's with `partnerId`). */
    balances: (partnerId?: string, handle?: string) =>
      this.call(sdk.getBalances, { path: { handle: this.need(handle) }, query: partnerId ? { partnerId } : {} }),
  };

  readonly webhooks = {
    /** A subscription; its `secret` (`whsec_…`) is in this answer only. */
    create: (subscription: T.SubscriptionCreateRequest, handle?: string) =>
      this.call(sdk.createWebhook, { path: { handle: this.need(handle) }, body: subscription }),
    list: (handle?: string) => this.call(sdk.listWebhooks, { path: { handle: this.need(handle) } }),
  };

  readonly analytics = {
    /**
     * The analytics CSV export (RFC 4180, a header row), streamed: text chunks as they arrive,
     * never the whole file in memory.
     */
    exportCsv: (query: Omit<NonNullable<T.ExportAnalyticsData['query']>, 'format'> = {}, handle?: string) =>
      this.streamText(sdk.exportAnalytics, {
        path: { handle: this.need(handle) },
        query: { ...query, format: 'csv' as const },
      }),
  };

  private async *streamText<F extends Generated>(fn: F, options: OptionsOf<F>): AsyncGenerator<string> {
    const body = unwrap(
      await fn({ ...options, client: this.client, parseAs: 'stream' }),
    ) as ReadableStream<Uint8Array> | null;
    if (!body) return;
    const decoder = new TextDecoder();
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const text = decoder.decode(value, { stream: true });
        if (text) yield text;
      }
      const rest = decoder.decode();
      if (rest) yield rest;
    } finally {
      reader.releaseLock();
    }
  }
}
