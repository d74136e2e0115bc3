/**
 * Telling the lines a pod logged after a mark (its last line, with the runtime's timestamp, taken before the load)
 * from what came before, from what `kubectl logs` can still serve: the current container's log file and, after a
 * restart, the previous container's. The kubelet rotates a container's log at `containerLogMaxSize` (10Mi by
 * default) and `kubectl logs` reads only the current file (kubernetes/kubernetes#59898, #59902), so lines between
 * the mark and a rotation can be gone: the caller must say so, never count what is left as if it were all.
 */

/** Where a pod's lines after the mark are, or `lost` when the mark is in neither log it can still read. */
export type AfterMark = { lines: string[] } | { lost: true };

/**
 * `current` and `previous` are log lines with timestamps (`--timestamps`), oldest first; `marked` the pod's mark
 * (undefined: the pod had logged nothing, or did not exist, when the mark was taken: all its lines are new).
 */
export function linesAfterMark(marked: string | undefined, current: readonly string[], previous: readonly string[]): AfterMark {
  if (marked === undefined) return { lines: [...current] };
  const inCurrent = current.lastIndexOf(marked);
  if (inCurrent >= 0) return { lines: current.slice(inCurrent + 1) };
  // the container restarted since the mark: the rest of its old life is the previous container's log
  const inPrevious = previous.lastIndexOf(marked);
  if (inPrevious >= 0) return { lines: [...previous.slice(inPrevious + 1), ...current] };
  return { lost: true };
}
