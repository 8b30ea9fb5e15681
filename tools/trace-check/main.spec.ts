import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Io, run } from './main';

// End to end: run() against a real directory tree made with fs.mkdtemp.

const RECORDS = 'services/patients/test/records.int-spec.ts';
const MATRIX = 'specs/modules/patients/TRACEABILITY_MATRIX.md';

interface Captured extends Io {
  stdout: string[];
  stderr: string[];
}

function io(cwd: string): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { cwd, stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

function write(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

const NAMES = {
  'queue-replay': 'records sync replays queued mutations in order',
  idempotency: 'records sync ignores a duplicate mutation id',
  conflict: 'records sync rejects a stale baseVersion',
  'tenant-isolation': 'records sync never leaks another tenant',
};

function matrixText(): string {
  const rows = Object.entries(NAMES).map(
    ([category, name], i) =>
      `| PAT-${i + 1} | Requirement ${i + 1} | ${category} | \`${RECORDS}::${name}\` |`,
  );
  return [
    '# Traceability',
    '',
    '| ID | Requirement | Category | Tests |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

function reportJson(root: string, status: (name: string) => string = () => 'passed'): string {
  return JSON.stringify({
    numTotalTests: 4,
    success: true,
    testResults: [
      {
        name: path.join(root, RECORDS),
        status: 'passed',
        message: '',
        assertionResults: Object.values(NAMES).map((fullName) => ({
          ancestorTitles: ['records', 'sync'],
          title: fullName.replace('records sync ', ''),
          fullName,
          status: status(fullName),
          failureMessages: [],
        })),
      },
    ],
  });
}

/** The records test file: each test of NAMES, asserting on a (pretend) system under test. */
function recordsSource(body: (name: string) => string = () => 'expect(sync.run()).toEqual([]);'): string {
  const tests = Object.values(NAMES).map(
    (fullName) =>
      `    it('${fullName.replace('records sync ', '')}', () => {\n      ${body(fullName)}\n    });`,
  );
  return ["describe('records', () => {", "  describe('sync', () => {", ...tests, '  });', '});', ''].join(
    '\n',
  );
}

/** A valid repo: one offline module, its test file and a passing report. */
function buildRepo(root: string): void {
  write(root, 'specs/modules/patients/SPEC.md', '# Patients\n\n**Offline support:** yes\n');
  write(root, MATRIX, matrixText());
  write(root, RECORDS, recordsSource());
  write(root, 'reports/jest-results.json', reportJson(root));
}

describe('trace-check main run()', () => {
  let root: string;

  beforeEach(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'trace-check-')));
    buildRepo(root);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('exits 0 and prints the module table for a valid repo', () => {
    const out = io(root);
    expect(run([], out)).toBe(EXIT_OK);
    expect(out.stderr).toEqual([]);
    expect(out.stdout).toContain(`patients (offline support: yes) - ${MATRIX}`);
    expect(out.stdout).toContain('  ID     Category          Status  Tests');
    expect(out.stdout).toContain('  PAT-3  conflict          PASS    1');
    expect(out.stdout.at(-1)).toBe('trace:check OK: 1 module(s), 4 requirement(s), 4 passing, 0 problem(s)');
  });

  it('exits 1 and lists problems as file:line when a test failed', () => {
    write(
      root,
      'reports/jest-results.json',
      reportJson(root, (n) => (n === NAMES.conflict ? 'failed' : 'passed')),
    );
    const out = io(root);
    expect(run([], out)).toBe(EXIT_PROBLEMS);
    expect(out.stdout).toContain('  PAT-3  conflict          FAIL    1');
    expect(out.stdout).toContain(`  ${MATRIX}:7: PAT-3: test failed: ${RECORDS}::${NAMES.conflict}`);
    expect(out.stdout.at(-1)).toBe(
      'trace:check FAILED: 1 module(s), 4 requirement(s), 3 passing, 1 problem(s)',
    );
  });

  it('exits 1 when a cited test does not assert on the system under test', () => {
    write(
      root,
      RECORDS,
      recordsSource((name) =>
        name === NAMES.conflict
          ? 'expect(aPatientCreate()).toBeTruthy();'
          : 'expect(sync.run()).toEqual([]);',
      ),
    );
    const out = io(root);
    expect(run([], out)).toBe(EXIT_PROBLEMS);
    expect(out.stdout).toContain('  PAT-3  conflict          NO ASSERTION  1');
    expect(out.stdout).toContain(
      `  ${MATRIX}:7: PAT-3: cited test does not assert on the system under test (its only assertions are on a literal or a test-data builder: expect(aPatientCreate())): ${RECORDS}::${NAMES.conflict}`,
    );
  });

  it('exits 1 when a named test file is missing or the report is missing', () => {
    fs.rmSync(path.join(root, RECORDS));
    fs.rmSync(path.join(root, 'reports/jest-results.json'));
    const out = io(root);
    expect(run([], out)).toBe(EXIT_PROBLEMS);
    expect(out.stdout).toContain(
      '  reports/jest-results.json: Jest report not found; run: npx jest --json --outputFile=reports/jest-results.json',
    );
    expect(out.stdout).toContain(`  ${MATRIX}:5: PAT-1: test file not found: ${RECORDS}`);
  });

  it('exits 1 when an offline module drops a required category', () => {
    write(root, MATRIX, matrixText().replace('| tenant-isolation |', '| authz |'));
    const out = io(root);
    expect(run([], out)).toBe(EXIT_PROBLEMS);
    expect(out.stdout).toContain(
      `  ${MATRIX}:3: module "patients" claims offline support (specs/modules/patients/SPEC.md:3) ` +
        'but has no requirement in category "tenant-isolation"',
    );
  });

  it('honours --root and --report from another working directory', () => {
    const elsewhere = path.join(root, 'reports', 'ci.json');
    write(root, 'reports/ci.json', reportJson(root));
    fs.rmSync(path.join(root, 'reports/jest-results.json'));
    const out = io(os.tmpdir());
    expect(run(['--root', root, `--report=${elsewhere}`], out)).toBe(EXIT_OK);
    expect(run(['--root', root], io(os.tmpdir()))).toBe(EXIT_PROBLEMS);
  });

  it('exits 1 when there are no modules at all', () => {
    fs.rmSync(path.join(root, 'specs'), { recursive: true });
    const out = io(root);
    expect(run([], out)).toBe(EXIT_PROBLEMS);
    expect(out.stdout).toContain('  specs/modules: no specs/modules/<module>/TRACEABILITY_MATRIX.md found');
  });

  it('exits 2 on bad usage', () => {
    const out = io(root);
    expect(run(['--nope'], out)).toBe(EXIT_USAGE);
    expect(out.stderr.join('\n')).toMatch(/usage: trace-check/);
    expect(run(['--root', path.join(root, 'missing')], io(root))).toBe(EXIT_USAGE);
  });
});
