/**
 * The few files nthd reads because a setting points at them (kubeconfig and
 * the certificates and token files it names, the service account mount, the
 * webhook template), read with a size limit: a setting pointing at the wrong
 * thing (a disk image, /dev/zero) must stop start-up with an error naming
 * the file, not fill the memory. Special files that report no size are read
 * up to the limit too.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { bodyTooLarge } from "./http/body.ts";
import { countBodyOverLimit } from "./observe/metrics.ts";

/** Generous for any kubeconfig, CA bundle or token; far below what would hurt. */
export const MAX_CONFIG_FILE_BYTES = 16 * 1024 * 1024;

/**
 * The file as UTF-8 text. Throws what the file system throws, or NthdError
 * BODY_TOO_LARGE ("file PATH: body is over 16 MiB, the limit").
 */
export function readTextFileCapped(path: string, maxBytes = MAX_CONFIG_FILE_BYTES): string {
  const fd = openSync(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) {
        countBodyOverLimit("file");
        throw bodyTooLarge(`file ${path}`, maxBytes);
      }
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
