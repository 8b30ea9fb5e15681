import { build } from 'esbuild';
import { join } from 'node:path';

// Issue 15: the SDK's browser entry bundles for the browser with no Node module in it. Real:
// esbuild over the sources (tsconfig paths as the apps resolve them); nothing is mocked.
const root = join(__dirname, '../../..');
/** Packages that need Node (native addons, fs): none may reach the browser bundle. */
const NODE_ONLY_PACKAGES = ['better-sqlite3', 'bindings', 'file-uri-to-path'];
const MAX_BUNDLE_BYTES = 400_000;

describe('the SDK browser bundle (libs/sync-client/src/browser.ts)', () => {
  it('bundles with esbuild for the browser, with no Node built-in and no Node-only package, at a sane size', async () => {
    const result = await build({
      absWorkingDir: root,
      entryPoints: ['libs/sync-client/src/browser.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      tsconfig: 'tsconfig.base.json',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const packages = [...new Set(inputs.filter((i) => i.includes('node_modules/')).map((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)?.[1]))];
    const bytes = result.outputFiles[0].contents.length;
    console.log(`browser bundle: ${bytes} bytes, ${inputs.length} inputs, packages: ${packages.join(', ')}`);

    expect(result.errors).toEqual([]);
    expect(inputs.filter((i) => i.startsWith('node:') || !i.includes('/'))).toEqual([]);
    expect(packages.filter((p) => NODE_ONLY_PACKAGES.includes(p as string))).toEqual([]);
    expect(inputs).toContain('libs/sync-client/src/sync-client.ts');
    expect(inputs).not.toContain('libs/sync-client/src/sqlite-store.ts');
    expect(bytes).toBeGreaterThan(10_000);
    expect(bytes).toBeLessThan(MAX_BUNDLE_BYTES);
    // A Node built-in left as a bare require would only fail at run time in the browser.
    expect(result.outputFiles[0].text).not.toMatch(/\brequire\(["'](node:)?(crypto|events|fs|path|util|buffer)["']\)/);
  });

  it('fails for the Node entry, which carries the better-sqlite3 adapter (the check can fail)', async () => {
    await expect(
      build({ absWorkingDir: root, entryPoints: ['libs/sync-client/src/index.ts'], bundle: true, platform: 'browser', write: false, logLevel: 'silent', tsconfig: 'tsconfig.base.json' }),
    ).rejects.toThrow(/Could not resolve "(fs|path)"/);
  });
});
