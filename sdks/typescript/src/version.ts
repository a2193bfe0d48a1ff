import { TenxVersionError } from './errors.js';

/** This package's version: the 10x API version (openapi.yaml's `info.version`) it was generated from. */
export const LIBRARY_VERSION = '0.1.0';
/** The API version this library speaks; every answer's `x-tenx-api-version` is compared with it. */
export const API_VERSION = '0.1.0';

/** The major version: the first number, also for 0.x (0.1 and 0.2 are both major 0). */
export function majorOf(version: string): number | undefined {
  const m = /^\s*v?(\d+)(?:\.\d+)*(?:[-+].*)?\s*$/.exec(version);
  return m ? Number(m[1]) : undefined;
}

/**
 * Refuses an answer whose `x-tenx-api-version` names another major version than this library's.
 * An answer without the header (a proxy's own error page, say) is let through: nothing says it
 * differs.
 */
export function checkApiVersion(serverVersion: string | null | undefined, status?: number): void {
  if (serverVersion == null || serverVersion === '') return;
  const server = majorOf(serverVersion);
  const ours = majorOf(API_VERSION)!;
  if (server === ours) return;
  throw new TenxVersionError(
    `the server speaks 10x API ${serverVersion} (x-tenx-api-version) but tenx-attribution ` +
      `${LIBRARY_VERSION} speaks API ${API_VERSION}: the major versions differ ` +
      `(${server ?? 'unreadable'} and ${ours}); use a tenx-attribution release made for API ${
        server ?? serverVersion
      }.x`,
    serverVersion,
    status,
  );
}
