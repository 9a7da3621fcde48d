/** JSON merge patches (RFC 7386): the kind nthd sends for a node's marks. */
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";

/**
 * Applies a merge patch the way the API server does, so a test checks the
 * resulting object rather than the patch's shape.
 */
export function applyMergePatch<T>(target: T, patch: unknown): T {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch as T;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as object) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out as T;
}

/** The request options that make a client-node patch call send a merge patch. */
export const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
