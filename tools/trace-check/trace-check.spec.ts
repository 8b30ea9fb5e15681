import {
  Category,
  checkTrace,
  CheckResult,
  findOfflineClaim,
  findTestBodies,
  JestAssertion,
  judgeTestBody,
  maskSource,
  JestReport,
  ModuleSource,
  OFFLINE_REQUIRED_CATEGORIES,
  parseMatrix,
  Problem,
  referencedTestFiles,
  ReportInput,
  splitRow,
  splitTestsCell,
} from './trace-check';

// ---- builders -------------------------------------------------------------------------------

const ROOT = '/repo';
const HEADER = '| ID | Requirement | Category | Tests |';
const SEPARATOR = '|----|-------------|----------|-------|';
const MATRIX_FILE = 'specs/modules/patients/TRACEABILITY_MATRIX.md';
const SPEC_FILE = 'specs/modules/patients/SPEC.md';
const RECORDS = 'services/patients/test/records.int-spec.ts';

interface Row {
  id: string;
  category: string;
  tests: string;
  requirement?: string;
}

/** One reference `path::name` as written in a Tests cell. */
const ref = (file: string, name: string): string => `${file}::${name}`;

/** A matrix row whose tests are joined with `<br>`. */
function row(id: string, category: Category | string, ...tests: string[]): Row {
  return { id, category, tests: tests.join('<br>') };
}

/** Matrix markdown. The table header is on line 3, the separator on line 4, rows from line 5. */
function matrix(rows: Row[], header = HEADER, separator = SEPARATOR): string {
  const body = rows.map(
    (r) => `| ${r.id} | ${r.requirement ?? `Requirement ${r.id}`} | ${r.category} | ${r.tests} |`,
  );
  return ['# Patients traceability', '', header, separator, ...body, ''].join('\n');
}
const rowLine = (index: number): number => 5 + index;

function spec(offline: boolean): string {
  return ['# Patients', '', `Offline support: ${offline ? 'yes' : 'no'}`, '', 'Stores patient records.'].join(
    '\n',
  );
}

function moduleSource(
  matrixText: string | undefined,
  specText: string | undefined = spec(true),
): ModuleSource {
  return {
    module: 'patients',
    matrixFile: MATRIX_FILE,
    specFile: SPEC_FILE,
    matrix: matrixText,
    spec: specText,
  };
}

/** An assertion whose fullName is the describe blocks and title joined by spaces, like Jest's. */
function assertion(fullName: string, status = 'passed'): JestAssertion {
  const parts = fullName.split(' ');
  return { ancestorTitles: parts.slice(0, 1), title: parts.slice(1).join(' '), fullName, status };
}

/** Jest --json output: file (repo-relative) -> assertions. */
function jestReport(files: Record<string, JestAssertion[]>, root = ROOT): JestReport {
  return {
    testResults: Object.entries(files).map(([file, assertionResults]) => ({
      name: `${root}/${file}`,
      status: assertionResults.some((a) => a.status === 'failed') ? 'failed' : 'passed',
      message: '',
      assertionResults,
    })),
  };
}

const loaded = (report: unknown): ReportInput => ({ state: 'loaded', json: report });

function check(
  modules: ModuleSource[],
  report: ReportInput,
  existing: Iterable<string> = referencedTestFiles(modules),
): CheckResult {
  return checkTrace({
    root: ROOT,
    modules,
    reportFile: 'reports/jest-results.json',
    report,
    existingFiles: new Set(existing),
  });
}

/** A fully valid offline module: one passing test per required category plus one authz. */
const TESTS: Record<Category, string> = {
  'queue-replay': 'records replays a queued mutation after reconnect',
  idempotency: 'records ignores a duplicate mutation id',
  conflict: 'records rejects a stale baseVersion',
  'tenant-isolation': 'records never returns another tenant rows',
  authz: 'records forbids a clerk from deleting',
  validation: 'records rejects a malformed birth date',
  events: 'records publishes patient.updated',
  other: 'records exposes health',
};
const VALID_CATEGORIES: Category[] = ['queue-replay', 'idempotency', 'conflict', 'tenant-isolation', 'authz'];

function validRows(): Row[] {
  return VALID_CATEGORIES.map((c, i) => row(`PAT-${i + 1}`, c, ref(RECORDS, TESTS[c])));
}
function validReport(overrides: Partial<Record<string, string>> = {}): JestReport {
  return jestReport({ [RECORDS]: Object.values(TESTS).map((n) => assertion(n, overrides[n] ?? 'passed')) });
}

const messages = (problems: Problem[]): string[] =>
  problems.map((p) => `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`);

// ---- tests ----------------------------------------------------------------------------------

describe('checkTrace', () => {
  it('passes a fully valid offline module', () => {
    const result = check([moduleSource(matrix(validRows()))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([]);
    expect(result.modules).toEqual([
      {
        module: 'patients',
        matrixFile: MATRIX_FILE,
        offline: true,
        requirements: VALID_CATEGORIES.map((c, i) => ({
          id: `PAT-${i + 1}`,
          categoryText: c,
          status: 'PASS',
          testCount: 1,
          line: rowLine(i),
        })),
      },
    ]);
  });

  it('passes a non-offline module without the offline categories', () => {
    const result = check(
      [moduleSource(matrix([row('PAT-1', 'authz', ref(RECORDS, TESTS.authz))]), spec(false))],
      loaded(validReport()),
    );
    expect(result.problems).toEqual([]);
    expect(result.modules[0].offline).toBe(false);
  });

  it.each([
    ['an empty cell', ''],
    ['a dash placeholder', '—'],
    ['TBD', 'TBD'],
  ])('fails a requirement that names no test (%s)', (_label, cell) => {
    const rows = [...validRows(), { id: 'PAT-9', category: 'validation', tests: cell }];
    const result = check([moduleSource(matrix(rows))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([`${MATRIX_FILE}:${rowLine(5)}: PAT-9: names no test`]);
    expect(result.modules[0].requirements[5]).toMatchObject({
      id: 'PAT-9',
      status: 'NO TESTS',
      testCount: 0,
    });
  });

  it('fails when a named test file does not exist', () => {
    const rows = validRows();
    rows[1] = row('PAT-2', 'idempotency', ref('services/patients/test/gone.int-spec.ts', TESTS.idempotency));
    const modules = [moduleSource(matrix(rows))];
    const result = check(modules, loaded(validReport()), [RECORDS]);
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(1)}: PAT-2: test file not found: services/patients/test/gone.int-spec.ts`,
    ]);
    expect(result.modules[0].requirements[1].status).toBe('MISSING');
  });

  it('fails when a named test does not exist in its file, hinting at the fullName', () => {
    const rows = validRows();
    rows[2] = row(
      'PAT-3',
      'conflict',
      ref(RECORDS, 'rejects a stale baseVersion'),
      ref(RECORDS, 'no such test'),
    );
    const result = check([moduleSource(matrix(rows))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(2)}: PAT-3: test not found in ${RECORDS}: "rejects a stale baseVersion" ` +
        `(did you mean "${TESTS.conflict}"? names must be Jest's fullName: describe blocks + title)`,
      `${MATRIX_FILE}:${rowLine(2)}: PAT-3: test not found in ${RECORDS}: "no such test"`,
    ]);
    expect(result.modules[0].requirements[2]).toMatchObject({ status: 'MISSING', testCount: 2 });
  });

  it('says "not run" when the file exists but is absent from the report', () => {
    const other = 'services/patients/test/replay.int-spec.ts';
    const rows = validRows();
    rows[0] = row('PAT-1', 'queue-replay', ref(other, TESTS['queue-replay']));
    const result = check([moduleSource(matrix(rows))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(0)}: PAT-1: test file not run (absent from reports/jest-results.json): ${other}`,
    ]);
    expect(result.modules[0].requirements[0].status).toBe('NOT RUN');
  });

  it('fails when a named test failed in the report', () => {
    const result = check(
      [moduleSource(matrix(validRows()))],
      loaded(validReport({ [TESTS.conflict]: 'failed' })),
    );
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(2)}: PAT-3: test failed: ${RECORDS}::${TESTS.conflict}`,
    ]);
    expect(result.modules[0].requirements[2].status).toBe('FAIL');
  });

  it.each(['pending', 'skipped', 'todo', 'disabled'])('fails when a named test is %s', (status) => {
    const result = check([moduleSource(matrix(validRows()))], loaded(validReport({ [TESTS.authz]: status })));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(4)}: PAT-5: test did not pass (status: ${status}): ${RECORDS}::${TESTS.authz}`,
    ]);
    expect(result.modules[0].requirements[4].status).toBe('SKIPPED');
  });

  it('fails when the test file crashed before running any test', () => {
    const report: JestReport = {
      testResults: [
        {
          name: `${ROOT}/${RECORDS}`,
          status: 'failed',
          message: '\n  Cannot find module x\n',
          assertionResults: [],
        },
      ],
    };
    const result = check([moduleSource(matrix(validRows().slice(4)), spec(false))], loaded(report));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(0)}: PAT-5: test file failed to run: ${RECORDS}: Cannot find module x`,
    ]);
  });

  it.each(OFFLINE_REQUIRED_CATEGORIES.map((c) => [c]))(
    'fails an offline module with no %s requirement',
    (missing) => {
      const rows = validRows().filter((r) => r.category !== missing);
      const result = check([moduleSource(matrix(rows))], loaded(validReport()));
      expect(messages(result.problems)).toEqual([
        `${MATRIX_FILE}:3: module "patients" claims offline support (${SPEC_FILE}:3) but has no requirement in category "${missing}"`,
      ]);
    },
  );

  it('reports every offline category missing from an offline module', () => {
    const result = check([moduleSource(matrix(validRows().slice(4)))], loaded(validReport()));
    expect(result.problems.map((p) => /category "(.*)"/.exec(p.message)?.[1])).toEqual([
      ...OFFLINE_REQUIRED_CATEGORIES,
    ]);
  });

  it('fails a table missing a column, with file and line', () => {
    const text = matrix(
      validRows().map((r) => ({ ...r, category: r.tests, tests: '' })),
      '| ID | Requirement | Tests |',
      '|----|----|----|',
    );
    const result = check([moduleSource(text, spec(false))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:3: malformed table: missing column(s) Category (expected header | ID | Requirement | Category | Tests |)`,
      `${MATRIX_FILE}:3: matrix lists no requirements`,
    ]);
  });

  it('fails a row with the wrong number of cells, with its line', () => {
    const rows = [...validRows(), { id: 'PAT-9', category: 'other', tests: `${ref(RECORDS, 'a | b')}` }];
    const result = check([moduleSource(matrix(rows))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(5)}: malformed table row: 5 cells, header has 4 (a \`|\` inside a test name must be escaped as \`\\|\`)`,
    ]);
  });

  it('fails a header without a separator row', () => {
    const text = matrix(validRows(), HEADER, '| PAT-0 | x | other | y |');
    const result = check([moduleSource(text, spec(false))], loaded(validReport()));
    expect(messages(result.problems)).toContain(
      `${MATRIX_FILE}:4: malformed table: header must be followed by a separator row like |----|----|----|----|`,
    );
  });

  it('fails a matrix with no table at all', () => {
    const result = check([moduleSource('# Patients\n\nTODO\n', spec(false))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:1: malformed matrix: no table with header | ID | Requirement | Category | Tests | found`,
    ]);
  });

  it('fails an unknown category, with file and line', () => {
    const rows = [...validRows(), row('PAT-9', 'offline-sync', ref(RECORDS, TESTS.other))];
    const result = check([moduleSource(matrix(rows))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(5)}: PAT-9: unknown category "offline-sync" ` +
        '(expected one of queue-replay, idempotency, conflict, tenant-isolation, authz, validation, events, other)',
    ]);
  });

  it('fails a duplicate requirement ID', () => {
    const rows = [...validRows(), row('PAT-1', 'other', ref(RECORDS, TESTS.other))];
    const result = check([moduleSource(matrix(rows))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(5)}: PAT-1: duplicate requirement ID (first on line 5)`,
    ]);
  });

  it('fails a malformed test reference', () => {
    const rows = [...validRows(), row('PAT-9', 'other', 'records exposes health')];
    const result = check([moduleSource(matrix(rows))], loaded(validReport()));
    expect(messages(result.problems)).toEqual([
      `${MATRIX_FILE}:${rowLine(5)}: PAT-9: invalid test reference "records exposes health": expected \`path::test name\``,
    ]);
  });

  it('fails when the report is missing, unreadable or not a Jest report', () => {
    const modules = [moduleSource(matrix(validRows()))];
    const missing = check(modules, { state: 'missing' });
    expect(messages(missing.problems)).toEqual([
      'reports/jest-results.json: Jest report not found; run: npx jest --json --outputFile=reports/jest-results.json',
    ]);
    expect(missing.modules[0].requirements.map((r) => r.status)).toEqual(Array(5).fill('NO REPORT'));
    expect(messages(check(modules, { state: 'unreadable', error: 'invalid JSON' }).problems)).toEqual([
      'reports/jest-results.json: Jest report unreadable: invalid JSON',
    ]);
    expect(messages(check(modules, loaded({ numTotalTests: 0 })).problems)).toEqual([
      'reports/jest-results.json: not a Jest JSON report: expected an object with a testResults array',
    ]);
  });

  it('fails when no module has a matrix, or a module has a SPEC.md but no matrix', () => {
    expect(messages(check([], loaded(validReport())).problems)).toEqual([
      'specs/modules: no specs/modules/<module>/TRACEABILITY_MATRIX.md found',
    ]);
    const specOnly = {
      ...moduleSource(undefined),
      module: 'billing',
      specFile: 'specs/modules/billing/SPEC.md',
      matrixFile: 'specs/modules/billing/TRACEABILITY_MATRIX.md',
    };
    expect(
      messages(check([moduleSource(matrix(validRows())), specOnly], loaded(validReport())).problems),
    ).toEqual([
      'specs/modules/billing/SPEC.md: module "billing" has SPEC.md but no TRACEABILITY_MATRIX.md (expected specs/modules/billing/TRACEABILITY_MATRIX.md)',
    ]);
  });

  it('matches report files written in another checkout by path suffix', () => {
    const moved = jestReport({ [RECORDS]: validReport().testResults[0].assertionResults }, '/ci/build');
    const result = check([moduleSource(matrix(validRows()))], loaded(moved));
    expect(result.problems).toEqual([]);
    expect(result.modules[0].requirements.every((r) => r.status === 'PASS')).toBe(true);
  });

  it('accepts references with backticks, `;` and `<br/>` separators, and escaped pipes', () => {
    const piped = 'records maps a | b';
    const report = jestReport({
      [RECORDS]: [...validReport().testResults[0].assertionResults, assertion(piped)],
    });
    const rows = [
      ...validRows(),
      {
        id: '`PAT-9`',
        category: '`other`',
        tests:
          [
            `\`${ref(RECORDS, TESTS.other)}\``,
            `\`./${RECORDS}\`::\`${TESTS.events}\``,
            ref(RECORDS, 'records maps a \\| b'),
          ].join(' ; ') + `<br/>${ref(RECORDS, TESTS.validation)}`,
      },
    ];
    const result = check([moduleSource(matrix(rows))], loaded(report));
    expect(result.problems).toEqual([]);
    expect(result.modules[0].requirements[5]).toMatchObject({ id: 'PAT-9', status: 'PASS', testCount: 4 });
  });
});

describe('parsing helpers', () => {
  it('splits rows on unescaped pipes', () => {
    expect(splitRow('| a | b \\| c |  |')).toEqual(['a', 'b | c', '']);
    expect(splitRow('| a | b')).toEqual(['a', 'b']);
  });

  it('splits tests cells outside code spans only', () => {
    expect(splitTestsCell('a::x<br>b::y;c::z<BR />d::w')).toEqual(['a::x', 'b::y', 'c::z', 'd::w']);
    expect(splitTestsCell('`a::x; still x` ; b::y')).toEqual(['`a::x; still x`', 'b::y']);
    expect(splitTestsCell(' - ')).toEqual([]);
  });

  it('ignores tables without matrix columns and tables inside code fences', () => {
    const text = [
      '| Term | Meaning |',
      '|---|---|',
      '| a | b |',
      '',
      '```',
      HEADER,
      '| bad |',
      '```',
      '',
      HEADER,
      SEPARATOR,
      '| X-1 | r | other | a::b |',
    ].join('\n');
    const parsed = parseMatrix(text, 'm.md');
    expect(parsed.problems).toEqual([]);
    expect(parsed.tableLine).toBe(10);
    expect(parsed.requirements).toEqual([
      {
        id: 'X-1',
        title: 'r',
        categoryText: 'other',
        category: 'other',
        line: 12,
        tests: [{ raw: 'a::b', path: 'a', name: 'b' }],
      },
    ]);
  });

  it('accepts columns in any order, extra columns, and case differences', () => {
    const text = [
      '| tests | Notes | id | CATEGORY | Requirement |',
      '|-|-|-|-|-|',
      '| a::b | n | X-1 | Conflict | r |',
    ].join('\n');
    const parsed = parseMatrix(text, 'm.md');
    expect(parsed.problems).toEqual([]);
    expect(parsed.requirements[0]).toMatchObject({
      id: 'X-1',
      category: 'conflict',
      tests: [{ path: 'a', name: 'b' }],
    });
  });

  it('rejects reference paths outside the repo', () => {
    const parsed = parseMatrix(
      [HEADER, SEPARATOR, '| X-1 | r | other | /abs/a.spec.ts::t; ../up.spec.ts::t |'].join('\n'),
      'm.md',
    );
    expect(parsed.requirements[0].tests.map((t) => t.error)).toEqual([
      'path must be relative to the repo root',
      'path must be relative to the repo root',
    ]);
  });

  it.each([
    ['Offline support: yes', true],
    ['offline SUPPORT:   Yes (queue + replay)', true],
    ['- **Offline support:** yes', true],
    ['> Offline support: `yes`', true],
    ['Offline support: no', false],
    ['We might add offline support: yes, later', false],
  ])('reads the offline claim from %j', (line, claimed) => {
    expect(findOfflineClaim(`# M\n\n${line}\n`, 'SPEC.md')).toMatchObject({ claimed, problems: [] });
  });

  it('ignores claims in code fences and reports unrecognised values', () => {
    expect(findOfflineClaim('```\nOffline support: yes\n```\n', 'SPEC.md')).toEqual({
      claimed: false,
      problems: [],
    });
    expect(findOfflineClaim('Offline support: true\n', 'SPEC.md').problems).toEqual([
      {
        file: 'SPEC.md',
        line: 1,
        message:
          'unrecognised offline support value "true" (write "Offline support: yes" or "Offline support: no")',
      },
    ]);
  });
});

describe('cited tests must assert on the system under test', () => {
  /** A test file with one test titled `t` whose callback body is `body`, after `prelude`. */
  const file = (body: string, prelude = ''): string =>
    `${prelude}\ndescribe('records', () => {\n  it('t', async () => {\n${body}\n  });\n});\n`;
  const judge = (source: string): string | undefined => {
    const bodies = findTestBodies(source, 't');
    expect(bodies).toHaveLength(1);
    return judgeTestBody(source, bodies[0]);
  };

  it.each([
    ['an assertion on a response', 'const res = await push(); expect(res.status).toBe(200);'],
    [
      'a builder plus a real assertion',
      'expect(aPatientCreate()).toBeTruthy(); expect(await rows(id)).toEqual([]);',
    ],
    ['a rejection', "await expect(applier.apply(batch)).rejects.toThrow('refused');"],
    ['a thrown error', 'expect(() => parse(input)).toThrow(/bad/);'],
    ['a template with an interpolation', 'expect(`${a}-${b}`).toBe(label);'],
    ['node:assert', 'assert.equal(result.status, 200);'],
    ['a fast-check property', 'fc.assert(fc.property(fc.nat(), (n) => delay(n) >= n));'],
    ['an expectX helper from elsewhere', 'expectReject(decideMutation(def, intent), Code.APPEND_ONLY);'],
    ['a builder call passed to the system under test', 'expect(decide(aPatientCreate())).toEqual(x);'],
  ])('accepts %s', (_what, body) => {
    expect(judge(file(body))).toBeUndefined();
  });

  it.each([
    [
      'no assertion at all',
      'await push(p.baseUrl, token, body);',
      'no expect(...) or assert(...) in its body',
    ],
    [
      'assertions only in comments and strings',
      "// expect(res.status).toBe(200)\nconst s = 'expect(x).toBe(1)'; /* assert(x) */ const r = /expect(/;",
      'no expect(...) or assert(...) in its body',
    ],
    [
      'a builder alone',
      'expect(aPatientCreate()).toBeTruthy();',
      'its only assertions are on a literal or a test-data builder: expect(aPatientCreate())',
    ],
    [
      'an awaited builder alone',
      "expect(await anAppointment({ at: 'x' })).toMatchObject({});",
      "its only assertions are on a literal or a test-data builder: expect(await anAppointment({ at: 'x' }))",
    ],
    [
      'literals only',
      "expect(true).toBe(true); expect('ok').toBeTruthy(); expect(1).toBe(1); expect(null).toBeNull(); assert(true);",
      "its only assertions are on a literal or a test-data builder: expect(true); expect('ok'); expect(1); expect(null); assert(true)",
    ],
    [
      'an empty expect',
      'expect().toBe(undefined);',
      'its only assertions are on a literal or a test-data builder: expect()',
    ],
    [
      'asymmetric matchers alone',
      'const m = expect.any(Number); expect.assertions(1);',
      'no expect(...) or assert(...) in its body',
    ],
  ])('rejects %s', (_what, body, reason) => {
    expect(judge(file(body))).toBe(reason);
  });

  it('follows functions of the same file that assert, and only those', () => {
    const helpers = [
      'function expectApplied(r: Result): void {\n  expect(r.status).toBe("applied");\n}',
      'const checkRows = async (id: string) => {\n  expect(await rows(id)).toBe(1);\n};',
      'const load = (id: string) =>\n  rows(id);',
      'async function silent(x: number) { await push(x); }',
    ].join('\n');
    expect(judge(file('expectApplied(await push());', helpers))).toBeUndefined();
    expect(judge(file('await checkRows(id);', helpers))).toBeUndefined();
    expect(judge(file('await load(id); await silent(1);', helpers))).toBe(
      'no expect(...) or assert(...) in its body',
    );
    // A helper that asserts, handed only a builder, asserts on the builder.
    expect(judge(file('await checkRows(aPatientCreate());', helpers))).toBe(
      'no expect(...) or assert(...) in its body',
    );
  });

  it('finds a test by Jest location (it.each included) or by its plain title', () => {
    const source = [
      "describe('a', () => {",
      "  it('same', () => {",
      '    expect(one()).toBe(1);',
      '  });',
      "  it.each([[1], [2]])('row %s', (n) => {",
      '    doSomething(n);',
      '  });',
      '});',
      "describe('b', () => {",
      '  test("same", () => {});',
      '});',
    ].join('\n');
    const text = (r: { start: number; end: number }): string =>
      source.slice(r.start, r.end).replace(/\s+/g, ' ').trim();
    // Jest points at `it` for a plain test and at the second call's `(` for it.each.
    expect(findTestBodies(source, 'same', { line: 2, column: 3 }).map(text)).toEqual([
      '() => { expect(one()).toBe(1); }',
    ]);
    expect(findTestBodies(source, 'row 1', { line: 5, column: 22 }).map(text)).toEqual([
      '(n) => { doSomething(n); }',
    ]);
    expect(findTestBodies(source, 'same').map(text)).toEqual([
      '() => { expect(one()).toBe(1); }',
      '() => {}',
    ]);
    expect(findTestBodies(source, 'row 1')).toEqual([]);
    expect(findTestBodies(source, 'same', { line: 99, column: 1 })).toEqual([]);
  });

  it('masks comments, strings, template text and regular expressions, keeping offsets', () => {
    const src = "a('x(', /[)]/g, `t(${f('y')})`) // )\nb / 2 / c";
    const masked = maskSource(src);
    expect(masked).toHaveLength(src.length);
    expect(masked).toBe("a('  ', /   /g, `  ${f(' ')} `)     \nb / 2 / c");
  });

  describe('in checkTrace', () => {
    const SOURCES: Record<string, string> = {
      [TESTS.conflict]: 'expect(decide(stale)).toMatchObject({ status: "conflict" });',
      [TESTS['queue-replay']]: 'expect(await replay()).toEqual(first);',
      [TESTS.idempotency]: 'expect(aPatientCreate()).toBeTruthy();',
      [TESTS['tenant-isolation']]: 'await rows("t2");',
      [TESTS.authz]: 'expect(can("clerk", "delete")).toBe(false);',
    };
    /** The records test file: each test of TESTS under describe('records'), with the body above. */
    const recordsSource = (bodies: Record<string, string>): string =>
      [
        "describe('records', () => {",
        ...Object.values(TESTS).map(
          (name) =>
            `  it('${name.replace(/^records /, '')}', async () => {\n    ${bodies[name] ?? 'expect(ok()).toBe(true);'}\n  });`,
        ),
        '});',
      ].join('\n');
    const run = (bodies: Record<string, string>, report: JestReport = validReport()): CheckResult =>
      checkTrace({
        root: ROOT,
        modules: [moduleSource(matrix(validRows()))],
        reportFile: 'reports/jest-results.json',
        report: loaded(report),
        existingFiles: new Set([RECORDS]),
        testSources: new Map([[RECORDS, recordsSource(bodies)]]),
      });

    it('reports each passed cited test without a real assertion, as NO ASSERTION', () => {
      const result = run(SOURCES);
      expect(messages(result.problems)).toEqual([
        `${MATRIX_FILE}:6: PAT-2: cited test does not assert on the system under test (its only assertions are on a literal or a test-data builder: expect(aPatientCreate())): ${RECORDS}::${TESTS.idempotency}`,
        `${MATRIX_FILE}:8: PAT-4: cited test does not assert on the system under test (no expect(...) or assert(...) in its body): ${RECORDS}::${TESTS['tenant-isolation']}`,
      ]);
      expect(result.modules[0].requirements.map((r) => [r.id, r.status])).toEqual([
        ['PAT-1', 'PASS'],
        ['PAT-2', 'NO ASSERTION'],
        ['PAT-3', 'PASS'],
        ['PAT-4', 'NO ASSERTION'],
        ['PAT-5', 'PASS'],
      ]);
    });

    it('passes when every cited test asserts, and uses the report location when there is one', () => {
      expect(
        messages(
          run({
            ...SOURCES,
            [TESTS.idempotency]: 'expect(await push()).toBe(1);',
            [TESTS['tenant-isolation']]: 'expect(await rows("t2")).toEqual([]);',
          }).problems,
        ),
      ).toEqual([]);
      // A location pointing at another test is believed: the body there is the one judged.
      const report = validReport();
      const idem = report.testResults[0].assertionResults.find((a) => a.fullName === TESTS.idempotency);
      if (idem) idem.location = { line: 2, column: 3 }; // the first test of the file: 'replays a queued mutation...'
      expect(messages(run(SOURCES, report).problems)).toEqual([
        `${MATRIX_FILE}:8: PAT-4: cited test does not assert on the system under test (no expect(...) or assert(...) in its body): ${RECORDS}::${TESTS['tenant-isolation']}`,
      ]);
    });

    it('reports a cited test whose body cannot be found', () => {
      const result = checkTrace({
        root: ROOT,
        modules: [moduleSource(matrix(validRows()))],
        reportFile: 'reports/jest-results.json',
        report: loaded(validReport()),
        existingFiles: new Set([RECORDS]),
        testSources: new Map([[RECORDS, "describe('records', () => { it.each([1])(title, () => {}); });"]]),
      });
      expect(messages(result.problems)[0]).toBe(
        `${MATRIX_FILE}:5: PAT-1: cannot find the body of the cited test in ${RECORDS}: "${TESTS['queue-replay']}" (run Jest with --testLocationInResults, or give the test a plain string title)`,
      );
      expect(result.modules[0].requirements.every((r) => r.status === 'NO ASSERTION')).toBe(true);
    });
  });
});
