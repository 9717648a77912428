import { StateStoreError } from "../errors.ts";
import type { KeyMaterialStore, ProgressStore, StateStore } from "../ports.ts";
import { type KeyDocument, parseKeyDocument, serializeKeyDocument } from "./key-document.ts";
import { parseProgressDocument, serializeProgressDocument } from "./progress-document.ts";
import type { RotationState } from "./state.ts";
import {
  emptyProgress,
  joinState,
  type KeyPart,
  NO_KEYS,
  type ProgressPart,
  splitState,
} from "./state-parts.ts";

/** What the last load or save found stored, so a save writes only what changed, conditionally. */
interface Stored {
  /** 0: the secret holds no state; 1: a whole state from an earlier release; 2: keys only. */
  format: 0 | 1 | 2;
  keys: KeyPart;
  progress: ProgressPart;
  /** The progress object's version (ETag); undefined while it does not exist. */
  progressVersion: string | undefined;
}

/**
 * The rotation state in two stores (src/lifecycle/state-parts.ts): the keys in a Secrets Manager secret,
 * written only when they change — a handful of versions per rotation, far below the secret's version quota
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html) — and the progress in an
 * S3 object written with If-Match on the version it read, so two writers never clobber each other.
 *
 * Crash order — a run may die between the two writes of one save, and the next run must resume from what
 * it loads:
 * - Normally the secret is written first, then the progress. Dying in between leaves the new keys beside the
 *   previous progress, which is always a state to resume from: a key created by CreateAccessKey is in the
 *   secret next to its still-recorded intent (reconcile sees the key is known and drops the intent); a promotion
 *   is one secret write (current, pending and previous together) beside progress that already holds the new
 *   key everywhere; holdings, the batch and the verification name the key they belong to, so they never
 *   attach to another one.
 * - While the progress object does not exist yet (a new stack, or a state written by an earlier release, all
 *   in the secret), it is created first, so that no secret write can drop progress that exists nowhere else.
 *   When the save changes the keys too, it is created with what was stored so far (an intent before
 *   CreateAccessKey stays recorded until the key's secret is stored), and then the order above applies. The
 *   secret of an earlier release is rewritten with the keys only.
 * Writing the progress first in general would be wrong: a key whose secret never reached Secrets Manager
 * would be recorded as made, with its intent gone, and be taken for a key created by hand.
 */
export class SplitStateStore implements StateStore {
  readonly #keys: KeyMaterialStore;
  readonly #progress: ProgressStore;
  #stored: Stored | undefined;

  constructor(keys: KeyMaterialStore, progress: ProgressStore) {
    this.#keys = keys;
    this.#progress = progress;
  }

  /** Reads both stores. Throws StateStoreError (what, where, how to fix) for anything it cannot decode. */
  async load(): Promise<RotationState | undefined> {
    const keyDocument = parseKeyDocument(await this.#keys.read(), this.#keys.location);
    const progressText = await this.#progress.read();
    const progress = progressText && this.#parseProgress(progressText.text);
    this.#stored = {
      format: keyDocument?.format ?? 0,
      keys: keyDocument?.keys ?? NO_KEYS,
      progress: progress ?? keyDocument?.legacyProgress ?? emptyProgress(updatedAt(keyDocument)),
      progressVersion: progressText?.version,
    };
    if (!keyDocument && !progress) return undefined;
    return joinState(this.#stored.keys, this.#stored.progress);
  }

  /** Writes the parts of `state` that changed, in the crash order described above. */
  async save(state: RotationState): Promise<void> {
    if (!this.#stored) await this.load();
    const stored = this.#stored as Stored;
    const { keys, progress } = splitState(state);
    const writeKeys = stored.format === 1 || keysChanged(stored.keys, keys);
    try {
      if (stored.progressVersion === undefined) {
        const first = writeKeys ? stored.progress : progress;
        stored.progressVersion = await this.#progress.write(
          serializeProgressDocument(first, this.#keys.id),
          undefined,
        );
        stored.progress = first;
        if (!writeKeys) return;
      }
      if (writeKeys) {
        await this.#keys.write(serializeKeyDocument(keys, state.updatedAt));
        stored.format = 2;
        stored.keys = keys;
      }
      stored.progressVersion = await this.#progress.write(
        serializeProgressDocument(progress, this.#keys.id),
        stored.progressVersion,
      );
      stored.progress = progress;
    } catch (error) {
      // Whatever was written, the next save starts from what the stores hold then.
      this.#stored = undefined;
      throw error;
    }
  }

  #parseProgress(text: string): ProgressPart {
    const document = parseProgressDocument(text, this.#progress.location);
    if (document.secret !== this.#keys.id) {
      throw new StateStoreError(
        `The rotation progress in ${this.#progress.location} belongs to the state secret ${document.secret}, not to this stack's ${this.#keys.id}. Nothing was changed.`,
        `If this stack replaced an older one that used the same bucket, delete ${this.#progress.location} (it describes the old stack's keys); the next rotation then writes the key to every listed repository again.`,
      );
    }
    return document.progress;
  }
}

/**
 * True when the secret must be written: `current` or `pending` changed, or a new `previous` appeared. A
 * `previous` that is merely gone needs no write: it goes only once IAM no longer has it, and reconcile forgets
 * a `previous` IAM does not have.
 */
function keysChanged(stored: KeyPart, next: KeyPart): boolean {
  const material = (keys: KeyPart) => serializeKeyDocument({ ...keys, previous: undefined });
  if (material(stored) !== material(next)) return true;
  if (next.previous === undefined) return false;
  return (
    stored.previous?.accessKeyId !== next.previous.accessKeyId ||
    stored.previous.retireAfter !== next.previous.retireAfter ||
    stored.previous.origin !== next.previous.origin
  );
}

function updatedAt(keyDocument: KeyDocument | undefined): string {
  return keyDocument?.updatedAt ?? new Date(0).toISOString();
}
