/**
 * Serves a private platform (test/support/platform.ts: fresh database, private JetStream, the
 * module services and sync-ingest on a free port) for running the demo or the bench without
 * `npm start`. Prints one JSON line with the base URL and the dev issuer directory, then serves
 * until SIGINT/SIGTERM.
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register libs/sync-client/test/serve-platform.ts
 *   CLINISYNC_URL=<baseUrl> AUTH_DEV_ISSUER_DIR=<issuerDir> npm run bench:client
 */
import { startPlatform } from '../../../test/support/platform';

async function main(): Promise<void> {
  const p = await startPlatform();
  process.stdout.write(`${JSON.stringify({ baseUrl: p.baseUrl, issuerDir: p.env.AUTH_DEV_ISSUER_DIR })}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // If a module's NATS client waits on the server while closing, stopping NATS releases it.
    setTimeout(() => void p.nats.dispose(), 10_000).unref();
    p.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
