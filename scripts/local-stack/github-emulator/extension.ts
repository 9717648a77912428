/**
 * The registration point for endpoint groups kept outside the emulator's core (e.g. GitHub App authentication:
 * `POST /app/installations/{installation_id}/access_tokens`, `GET /app/installations`, …). An extension is plain
 * data passed in `startGitHubEmulator({ extensions: [...] })`:
 * - `handlers`: operationId → handler. Requests reach them like the built-in ones: matched against the OpenAPI
 *   description, authenticated, validated, faults and rate limits applied; the answer is validated too.
 *   `context.state` is the emulator's state (e.g. `state.addToken(token, grant)` to mint an installation token
 *   with `expiresAt` and the repositories it may reach).
 * - `authenticate`: called for a credential no registered token matches (e.g. an App's JWT), with the request's
 *   operationId; returns the grant the request acts with, `{ refusal }` (401 with that message, e.g. GitHub's
 *   "'Expiration time' claim ('exp') is too far in the future"), or undefined (401 Bad credentials).
 *   `context.credential` then carries the credential, so a handler can tell which App (or token) it is.
 * The GitHub App endpoints (apps.ts) are one: the server always registers them, as `github.apps`.
 * An operationId already handled by the core or another extension is refused when the emulator starts.
 */
import type { Handler } from "./handler-kit.ts";
import type { TokenGrant } from "./state.ts";

/** What `authenticate` answers: a grant, a refusal with GitHub's 401 message, or undefined (not its credential). */
export type ExtensionAuthentication = TokenGrant | { readonly refusal: string } | undefined;

/** A group of extra endpoints (see the module comment). */
export interface EmulatorExtension {
  /** Names the extension in errors. */
  readonly name: string;
  readonly handlers?: Readonly<Record<string, Handler>>;
  /** `now` is the emulator's clock (ms since epoch); `operationId` the operation the request matched. */
  readonly authenticate?: (credential: string, now: number, operationId: string) => ExtensionAuthentication;
}
