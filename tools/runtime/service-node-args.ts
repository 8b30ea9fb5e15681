/**
 * V8 options a service is started with, wherever it is started: `npm start`, the benches, and
 * `deploy/docker/clinisync.sh` (the image's entrypoint), which repeats them in shell; a test keeps
 * the two equal.
 *
 * sync-ingest gets an old-space ceiling. Without one V8 sizes the heap for the machine and lets
 * old space fill to about four times the live set before a full collection: with 20 devices
 * pushing 500-mutation batches the live set stays near 40 MB, yet old space reached 160 MB and
 * RSS 270-290 MB. Under a ceiling of 256 MB or less V8 grows the heap by a smaller factor: RSS
 * 160-175 MB in the same run, for about 15% more sync-ingest CPU in full collections. 256 MB is
 * six times the live set measured. A `--max-old-space-size` in NODE_OPTIONS overrides it.
 */
export const SERVICE_NODE_ARGS: Readonly<Record<string, readonly string[]>> = {
  'sync-ingest': ['--max-old-space-size=256'],
};

/** The V8 options for `service`, less a heap ceiling that NODE_OPTIONS already sets. */
export function serviceNodeArgs(service: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const own = SERVICE_NODE_ARGS[service] ?? [];
  const operatorSetsHeap = /--max-old-space-size/.test(env.NODE_OPTIONS ?? '');
  return own.filter((a) => !(operatorSetsHeap && a.startsWith('--max-old-space-size')));
}
