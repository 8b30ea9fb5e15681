// CLI for the traceability check: reads specs/modules/*/{TRACEABILITY_MATRIX,SPEC}.md and the Jest
// JSON report, runs the pure checks in trace-check.ts, prints the result and returns an exit code.
//   ts-node --transpile-only tools/trace-check/main.ts [--root <dir>] [--report <file>]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkTrace,
  CheckResult,
  DEFAULT_REPORT,
  MATRIX_FILE,
  ModuleSource,
  MODULES_DIR,
  normaliseRepoPath,
  Problem,
  referencedTestFiles,
  ReportInput,
  SPEC_FILE,
} from './trace-check';

export interface Io {
  cwd: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

const USAGE = [
  'usage: trace-check [--root <dir>] [--report <file>]',
  '  --root <dir>     repository root (default: current directory)',
  `  --report <file>  Jest JSON report (default: <root>/${DEFAULT_REPORT}; relative paths resolve against the cwd)`,
].join('\n');

function readIfFile(file: string): string | undefined {
  try {
    return fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Every directory under specs/modules holding a SPEC.md or a TRACEABILITY_MATRIX.md. */
export function loadModules(root: string): ModuleSource[] {
  const dir = path.join(root, MODULES_DIR);
  if (!isDirectory(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => isDirectory(path.join(dir, name)))
    .sort()
    .map((module) => ({
      module,
      matrixFile: `${MODULES_DIR}/${module}/${MATRIX_FILE}`,
      specFile: `${MODULES_DIR}/${module}/${SPEC_FILE}`,
      matrix: readIfFile(path.join(dir, module, MATRIX_FILE)),
      spec: readIfFile(path.join(dir, module, SPEC_FILE)),
    }))
    .filter((m) => m.matrix !== undefined || m.spec !== undefined);
}

/** Message of a thrown value (errors from another realm, e.g. a Jest sandbox, fail `instanceof Error`). */
function errorMessage(e: unknown): string {
  return typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string'
    ? e.message
    : String(e);
}

export function loadReport(file: string): ReportInput {
  if (!fs.existsSync(file)) return { state: 'missing' };
  let text: string;
  try {
    if (!fs.statSync(file).isFile()) return { state: 'unreadable', error: 'not a file' };
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { state: 'unreadable', error: errorMessage(e) };
  }
  try {
    return { state: 'loaded', json: JSON.parse(text) as unknown };
  } catch (e) {
    return { state: 'unreadable', error: `invalid JSON: ${errorMessage(e)}` };
  }
}

function pad(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
}

export function formatProblem(p: Problem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`;
}

export function render(result: CheckResult): string[] {
  const lines: string[] = [];
  for (const m of result.modules) {
    lines.push(`${m.module} (offline support: ${m.offline ? 'yes' : 'no'}) - ${m.matrixFile}`);
    if (m.requirements.length > 0) {
      const rows = [
        ['ID', 'Category', 'Status', 'Tests'],
        ...m.requirements.map((r) => [r.id, r.categoryText || '-', r.status, String(r.testCount)]),
      ];
      lines.push(...pad(rows).map((l) => `  ${l}`));
    } else {
      lines.push('  (no requirements)');
    }
    lines.push('');
  }

  if (result.problems.length > 0) {
    lines.push(`Problems (${result.problems.length}):`);
    lines.push(...result.problems.map((p) => `  ${formatProblem(p)}`));
    lines.push('');
  }

  const reqs = result.modules.flatMap((m) => m.requirements);
  const passing = reqs.filter((r) => r.status === 'PASS').length;
  const verdict = result.problems.length === 0 ? 'OK' : 'FAILED';
  lines.push(
    `trace:check ${verdict}: ${result.modules.length} module(s), ${reqs.length} requirement(s), ` +
      `${passing} passing, ${result.problems.length} problem(s)`,
  );
  return lines;
}

/** Show a path relative to the root when it lies inside it. */
function display(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file;
}

export function run(argv: readonly string[], io: Io): number {
  let values: { root?: string; report?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        root: { type: 'string' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.err(errorMessage(e));
    io.err(USAGE);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.out(USAGE);
    return EXIT_OK;
  }

  const givenRoot = path.resolve(io.cwd, values.root ?? '.');
  if (!isDirectory(givenRoot)) {
    io.err(`trace-check: root is not a directory: ${givenRoot}`);
    return EXIT_USAGE;
  }
  // Jest reports real paths; resolve symlinks so they line up.
  const root = fs.realpathSync(givenRoot);
  const reportPath =
    values.report !== undefined ? path.resolve(io.cwd, values.report) : path.join(root, DEFAULT_REPORT);

  const modules = loadModules(root);
  const existingFiles = new Set(
    referencedTestFiles(modules).filter(
      (p) => normaliseRepoPath(p) !== undefined && isFile(path.join(root, p)),
    ),
  );
  const testSources = new Map<string, string>();
  for (const p of existingFiles) {
    const text = readIfFile(path.join(root, p));
    if (text !== undefined) testSources.set(p, text);
  }
  const result = checkTrace({
    root,
    modules,
    reportFile: display(root, reportPath),
    report: loadReport(reportPath),
    existingFiles,
    testSources,
  });

  for (const line of render(result)) io.out(line);
  return result.problems.length === 0 ? EXIT_OK : EXIT_PROBLEMS;
}

if (require.main === module) {
  process.exitCode = run(process.argv.slice(2), {
    cwd: process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}
