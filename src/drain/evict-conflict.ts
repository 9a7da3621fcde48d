/**
 * What a 409 on an eviction means, decided from a fresh read of the pod.
 *
 * The Eviction API answers 409 Conflict in more than one case: the uid
 * precondition nthd sends failed (the pod was deleted and a new one took its
 * name, as a StatefulSet does), or the API server lost a race updating the
 * PodDisruptionBudget's status while admitting the eviction. Only the first
 * means the planned pod is gone; the second leaves it running. Counting
 * every 409 as "gone" could report a node drained, and complete its
 * lifecycle action, while the pod still runs. So the pod is read again:
 * https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/
 *
 * Pure: no I/O.
 */

/** The pod as read after the conflict: absent (404), its uid, or the read failed. */
export type PodAfterConflict =
  | { readonly found: false }
  | { readonly found: true; readonly uid: string | undefined }
  | { readonly unknown: true; readonly reason: string };

export type ConflictVerdict =
  /** The planned pod no longer exists (deleted, or replaced by a new incarnation). */
  | { readonly verdict: "gone" }
  /** The planned pod is still there, or its state is unknown: try the eviction again. */
  | { readonly verdict: "retry"; readonly reason: string };

export function afterConflict(
  planned: { readonly uid?: string | undefined },
  now: PodAfterConflict,
): ConflictVerdict {
  if ("unknown" in now) {
    return { verdict: "retry", reason: `the pod could not be read again: ${now.reason}` };
  }
  if (!now.found) return { verdict: "gone" };
  if (planned.uid !== undefined && now.uid !== planned.uid) return { verdict: "gone" };
  return { verdict: "retry", reason: "conflict, but the planned pod is still there" };
}
