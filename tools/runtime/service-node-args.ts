/**
 * V8 options a service is started with, wherever it is started: `npm start`, the benches, and
 * `deploy/docker/clinisync.sh` (the image's entrypoint), which repeats them in shell; a test keeps
 * the two equal.
 *
 * sync-ingest: after each full collection V8 lets the heap grow by a factor it picks from the
 * heap ceiling, up to 4 on a machine with memory to spare. With 20 devices pushing
 * 500-mutation batches the live set stays near 40 MB, yet at 4x RSS reached 270-290 MB.
 * `--heap-growing-percent=100` fixes the factor at 2: RSS 185-205 MB under the same load.
 * The 256 MB ceiling stays as a bound. Without the fixed factor that ceiling made V8 pick 1.3,
 * and a pull, whose page buffers count against the heap once they outlive a young collection,
 * ran a full collection every few pages: 9-10 ms of sync-ingest CPU per 1,000-record page
 * instead of 5-6, and 55 instead of 40 µs per pushed mutation. A `--max-old-space-size` in
 * NODE_OPTIONS replaces the ceiling (V8 refuses `--heap-growing-percent` there).
 */
export const SERVICE_NODE_ARGS: Readonly<Record<string, readonly string[]>> = {
  'sync-ingest': ['--max-old-space-size=256', '--heap-growing-percent=100'],
};

/** The V8 options for `service`, less a heap ceiling that NODE_OPTIONS already sets. */
export function serviceNodeArgs(service: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const own = SERVICE_NODE_ARGS[service] ?? [];
  const operatorSetsHeap = /--max-old-space-size/.test(env.NODE_OPTIONS ?? '');
  return own.filter((a) => !(operatorSetsHeap && a.startsWith('--max-old-space-size')));
}
