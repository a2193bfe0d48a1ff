/** An answer of the API that is not a success, with the API's own words (its error envelope). */
export class TenxError extends Error {
  /** The API's error code (`invalid_request`, `not_found`, `rate_limited`, …), or `network_error`. */
  readonly code: string;
  /** The HTTP status; undefined when no answer came (a network error or timeout). */
  readonly status: number | undefined;
  /** The request's id (`requestId` in the envelope, else the `x-request-id` header). */
  readonly requestId: string | undefined;

  constructor(code: string, message: string, status?: number, requestId?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TenxError';
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }

  /** The error of an answer, from its `{error: {code, message, requestId}}` body when it has one. */
  static fromAnswer(response: Response, body: unknown): TenxError {
    const envelope = (body as { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | undefined)?.error;
    const requestId =
      (typeof envelope?.requestId === 'string' ? envelope.requestId : undefined) ??
      response.headers.get('x-request-id') ??
      undefined;
    if (envelope && typeof envelope.code === 'string') {
      return new TenxError(envelope.code, String(envelope.message ?? ''), response.status, requestId);
    }
    const text = typeof body === 'string' && body.length > 0 ? `: ${body.slice(0, 200)}` : '';
    return new TenxError('http_error', `HTTP ${response.status}${text}`, response.status, requestId);
  }
}

/** A server of another major API version than this library's (`x-tenx-api-version`). */
export class TenxVersionError extends TenxError {
  readonly serverVersion: string;
  constructor(message: string, serverVersion: string, status?: number) {
    super('api_version_mismatch', message, status);
    this.name = 'TenxVersionError';
    this.serverVersion = serverVersion;
  }
}

/** A webhook that did not verify; `message` is the same words as the Python library's. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}
