// Pure parsing and checking for `npm run trace:check`. No I/O here: main.ts reads the files
// and the Jest report and hands their contents in; everything returns data (problems, statuses).
import * as path from 'node:path';

export const CATEGORIES = [
  'queue-replay',
  'idempotency',
  'conflict',
  'tenant-isolation',
  'authz',
  'validation',
  'events',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Categories a module that claims offline support must cover with at least one requirement each. */
export const OFFLINE_REQUIRED_CATEGORIES = [
  'queue-replay',
  'idempotency',
  'conflict',
  'tenant-isolation',
] as const satisfies readonly Category[];

export const REQUIRED_COLUMNS = ['ID', 'Requirement', 'Category', 'Tests'] as const;
type Column = (typeof REQUIRED_COLUMNS)[number];

export const MATRIX_FILE = 'TRACEABILITY_MATRIX.md';
export const SPEC_FILE = 'SPEC.md';
export const MODULES_DIR = 'specs/modules';
export const DEFAULT_REPORT = 'reports/jest-results.json';

export interface Problem {
  /** Repo-relative path (or the path as given, for files outside the repo). */
  file: string;
  /** 1-based line; absent when the problem concerns a whole file. */
  line?: number;
  message: string;
}

export interface TestRef {
  raw: string;
  /** Normalised repo-relative POSIX path. */
  path: string;
  /** Test name with whitespace collapsed (compared against Jest's fullName). */
  name: string;
  /** Set when the reference could not be parsed; path/name are then unreliable. */
  error?: string;
}

export interface Requirement {
  id: string;
  title: string;
  /** The category exactly as written (trimmed). */
  categoryText: string;
  /** Undefined when categoryText is not a known category. */
  category: Category | undefined;
  tests: TestRef[];
  line: number;
}

export interface ParsedMatrix {
  requirements: Requirement[];
  /** Line of the first matrix table header, if any. */
  tableLine: number | undefined;
  problems: Problem[];
}

// ---------------------------------------------------------------------------------------------
// Markdown table parsing

interface SourceLine {
  text: string;
  line: number;
}

/** Split a markdown table row into cells. Unescaped `|` separates cells; `\|` is a literal pipe. */
export function splitRow(text: string): string[] {
  let s = text.trim();
  if (s.startsWith('|')) s = s.slice(1);
  const cells: string[] = [];
  let cur = '';
  let closed = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && s[i + 1] === '|') {
      cur += '|';
      i++;
      closed = false;
    } else if (ch === '|') {
      cells.push(cur);
      cur = '';
      closed = true;
    } else {
      cur += ch;
      if (ch.trim() !== '') closed = false;
    }
  }
  // A row ending in `|` has no trailing cell; a row without a closing pipe keeps its last cell.
  if (!closed || cur.trim() !== '') cells.push(cur);
  return cells.map((c) => c.trim());
}

/** Strip markdown decoration that may wrap a simple value: backticks, bold/italic markers. */
function plain(cell: string): string {
  let s = cell.trim();
  for (;;) {
    const m = /^(`+|\*\*|__|\*|_)([\s\S]*)\1$/.exec(s);
    if (!m || m[2].trim() === '') return s;
    s = m[2].trim();
  }
}

function columnKey(cell: string): string {
  return plain(cell).toLowerCase();
}

const SEPARATOR_CELL = /^:?-+:?$/;
const FENCE = /^(`{3,}|~{3,})/;

/**
 * Group the file into markdown tables (runs of consecutive lines starting with `|`),
 * ignoring anything inside fenced code blocks.
 */
function findTables(content: string): SourceLine[][] {
  const lines = content.split(/\r?\n/);
  const tables: SourceLine[][] = [];
  let fence: string | undefined;
  let current: SourceLine[] | undefined;
  lines.forEach((text, idx) => {
    const trimmed = text.trim();
    const fenceMatch = FENCE.exec(trimmed);
    if (fence !== undefined) {
      if (fenceMatch && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length)
        fence = undefined;
      return;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      current = undefined;
      return;
    }
    if (trimmed.startsWith('|')) {
      if (!current) {
        current = [];
        tables.push(current);
      }
      current.push({ text, line: idx + 1 });
    } else {
      current = undefined;
    }
  });
  return tables;
}

const PLACEHOLDER = /^(?:-+|—|–|n\/?a|none|tbd|todo)$/i;

/**
 * Split a Tests cell into references. Separators are `<br>` (any `<br/>`, `<br />` spelling)
 * and `;`, except inside backtick code spans. Placeholders such as `-`, `—`, `TBD`, `n/a`
 * count as naming no test.
 */
export function splitTestsCell(cell: string): string[] {
  const parts: string[] = [];
  const balanced = (cell.match(/`/g) ?? []).length % 2 === 0;
  let inCode = false;
  let cur = '';
  for (let i = 0; i < cell.length; i++) {
    const ch = cell[i];
    if (ch === '`' && balanced) {
      inCode = !inCode;
      cur += ch;
      continue;
    }
    if (!inCode) {
      if (ch === ';') {
        parts.push(cur);
        cur = '';
        continue;
      }
      const br = /^<br\s*\/?>/i.exec(cell.slice(i));
      if (br) {
        parts.push(cur);
        cur = '';
        i += br[0].length - 1;
        continue;
      }
    }
    cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '' && !PLACEHOLDER.test(plain(p)));
}

function collapse(s: string): string {
  return s.trim().replace(/\s+/g, ' ');
}

function stripTicks(s: string): string {
  return s.trim().replace(/^`+/, '').replace(/`+$/, '').trim();
}

/** Normalise a repo-relative path; undefined when it is absolute or escapes the repo root. */
export function normaliseRepoPath(p: string): string | undefined {
  const slashed = p.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:\//.test(slashed)) return undefined;
  const n = path.posix.normalize(slashed);
  if (n === '.' || n === '..' || n.startsWith('../')) return undefined;
  return n.replace(/^\.\//, '');
}

/** Parse `path::test name` (either part, or the whole, optionally in backticks). */
export function parseTestRef(raw: string): TestRef {
  const sep = raw.indexOf('::');
  if (sep < 0) return { raw, path: '', name: '', error: 'expected `path::test name`' };
  const rawPath = stripTicks(raw.slice(0, sep));
  const name = collapse(stripTicks(raw.slice(sep + 2)));
  if (rawPath === '') return { raw, path: '', name, error: 'missing test file path before `::`' };
  if (name === '') return { raw, path: rawPath, name, error: 'missing test name after `::`' };
  const p = normaliseRepoPath(rawPath);
  if (p === undefined) return { raw, path: rawPath, name, error: 'path must be relative to the repo root' };
  return { raw, path: p, name };
}

function parseCategory(text: string): Category | undefined {
  const key = text.toLowerCase();
  return CATEGORIES.find((c) => c === key);
}

/** Parse every traceability table in a TRACEABILITY_MATRIX.md. `file` is used in problems only. */
export function parseMatrix(content: string, file: string): ParsedMatrix {
  const problems: Problem[] = [];
  const requirements: Requirement[] = [];
  const seenIds = new Map<string, number>();
  let tableLine: number | undefined;
  const expectedHeader = `| ${REQUIRED_COLUMNS.join(' | ')} |`;

  for (const table of findTables(content)) {
    const [header, separator, ...rows] = table;
    const headerCells = splitRow(header.text).map(columnKey);
    const wanted = REQUIRED_COLUMNS.map((c) => c.toLowerCase());
    // Tables sharing no column with the matrix header (legends, notes) are not matrix tables.
    if (!headerCells.some((c) => wanted.includes(c))) continue;
    tableLine ??= header.line;

    const missing = REQUIRED_COLUMNS.filter((c) => !headerCells.includes(c.toLowerCase()));
    const dupes = headerCells.filter((c, i) => c !== '' && headerCells.indexOf(c) !== i);
    if (missing.length > 0 || dupes.length > 0) {
      const why = [
        missing.length > 0 ? `missing column(s) ${missing.join(', ')}` : '',
        dupes.length > 0 ? `duplicate column(s) ${[...new Set(dupes)].join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      problems.push({
        file,
        line: header.line,
        message: `malformed table: ${why} (expected header ${expectedHeader})`,
      });
      continue;
    }
    if (!separator || !splitRow(separator.text).every((c) => SEPARATOR_CELL.test(c))) {
      problems.push({
        file,
        line: separator?.line ?? header.line,
        message: 'malformed table: header must be followed by a separator row like |----|----|----|----|',
      });
      continue;
    }
    const sepCount = splitRow(separator.text).length;
    if (sepCount !== headerCells.length) {
      problems.push({
        file,
        line: separator.line,
        message: `malformed table: separator row has ${sepCount} cells, header has ${headerCells.length}`,
      });
      continue;
    }

    const col = (name: Column): number => headerCells.indexOf(name.toLowerCase());
    const [idCol, reqCol, catCol, testsCol] = [col('ID'), col('Requirement'), col('Category'), col('Tests')];

    for (const row of rows) {
      const cells = splitRow(row.text);
      if (cells.length !== headerCells.length) {
        problems.push({
          file,
          line: row.line,
          message:
            `malformed table row: ${cells.length} cells, header has ${headerCells.length} ` +
            '(a `|` inside a test name must be escaped as `\\|`)',
        });
        continue;
      }
      const id = plain(cells[idCol]);
      if (id === '') {
        problems.push({ file, line: row.line, message: 'malformed table row: empty ID' });
        continue;
      }
      const prev = seenIds.get(id);
      if (prev !== undefined) {
        problems.push({
          file,
          line: row.line,
          message: `${id}: duplicate requirement ID (first on line ${prev})`,
        });
      } else {
        seenIds.set(id, row.line);
      }
      const categoryText = plain(cells[catCol]);
      const category = parseCategory(categoryText);
      if (category === undefined) {
        problems.push({
          file,
          line: row.line,
          message:
            categoryText === ''
              ? `${id}: missing category (expected one of ${CATEGORIES.join(', ')})`
              : `${id}: unknown category "${categoryText}" (expected one of ${CATEGORIES.join(', ')})`,
        });
      }
      requirements.push({
        id,
        title: cells[reqCol],
        categoryText,
        category,
        tests: splitTestsCell(cells[testsCol]).map(parseTestRef),
        line: row.line,
      });
    }
  }

  if (tableLine === undefined) {
    problems.push({
      file,
      line: 1,
      message: `malformed matrix: no table with header ${expectedHeader} found`,
    });
  }
  return { requirements, tableLine, problems };
}

// ---------------------------------------------------------------------------------------------
// SPEC.md offline-support claim

export interface OfflineClaim {
  claimed: boolean;
  /** Line of the `Offline support: yes` line when claimed. */
  line?: number;
  problems: Problem[];
}

/**
 * A module claims offline support when a line of its SPEC.md reads `Offline support: yes`
 * (case-insensitive; list markers, `>` and bold/italic/backtick decoration around it are ignored;
 * text after `yes` is allowed). Lines inside fenced code blocks do not count. A line
 * `Offline support: <anything but yes/no>` is reported so that a typo cannot silently opt out.
 */
export function findOfflineClaim(spec: string, file: string): OfflineClaim {
  const problems: Problem[] = [];
  let claimLine: number | undefined;
  let fence: string | undefined;
  spec.split(/\r?\n/).forEach((text, idx) => {
    const trimmed = text.trim();
    const fenceMatch = FENCE.exec(trimmed);
    if (fence !== undefined) {
      if (fenceMatch && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length)
        fence = undefined;
      return;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      return;
    }
    const bare = trimmed
      .replace(/[*_`]/g, '')
      .replace(/^(?:[-+>]\s*)+/, '')
      .trim();
    const m = /^offline support\s*:\s*(.*)$/i.exec(bare);
    if (!m) return;
    if (/^yes\b/i.test(m[1])) {
      claimLine ??= idx + 1;
    } else if (!/^no\b/i.test(m[1])) {
      problems.push({
        file,
        line: idx + 1,
        message: `unrecognised offline support value "${m[1].trim()}" (write "Offline support: yes" or "Offline support: no")`,
      });
    }
  });
  return claimLine === undefined
    ? { claimed: false, problems }
    : { claimed: true, line: claimLine, problems };
}

// ---------------------------------------------------------------------------------------------
// Cited test bodies: a cited test must assert on the system under test

/** 1-based position of a test's declaration, as Jest reports it with `--testLocationInResults`. */
export interface TestLocation {
  line: number;
  column: number;
}

/** A range of the source: the arguments of a test call after its title (the callback, a timeout). */
export interface SourceRange {
  start: number;
  end: number;
}

const REGEX_AFTER = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));
const REGEX_AFTER_WORD =
  /(?:^|[^\w$])(?:return|typeof|case|do|else|in|of|void|yield|await|throw|delete|new)$/;

/**
 * The source with comments, string literal contents, template literal text and regular expression
 * literals blanked to spaces (line breaks kept), so offsets still line up with the source and
 * brackets, commas and calls can be found structurally. Quotes, backticks and `${ }` stay; the
 * expressions inside `${ }` stay code.
 */
export function maskSource(src: string): string {
  const out = src.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };
  const braces: ('code' | 'template')[] = [];
  /** Template text from `from` to the closing backtick or the next `${`; returns where code resumes. */
  const template = (from: number): number => {
    for (let k = from; k < src.length; k++) {
      if (src[k] === '\\') {
        k++;
      } else if (src[k] === '`') {
        blank(from, k);
        return k + 1;
      } else if (src[k] === '$' && src[k + 1] === '{') {
        blank(from, k);
        braces.push('template');
        return k + 2;
      }
    }
    blank(from, src.length);
    return src.length;
  };
  let prev = '';
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    const next = src[i + 1];
    if (ch === '/' && next === '/') {
      const nl = src.indexOf('\n', i);
      const end = nl < 0 ? src.length : nl;
      blank(i, end);
      i = end;
    } else if (ch === '/' && next === '*') {
      const close = src.indexOf('*/', i + 2);
      const end = close < 0 ? src.length : close + 2;
      blank(i, end);
      i = end;
    } else if (ch === "'" || ch === '"') {
      let k = i + 1;
      while (k < src.length && src[k] !== ch && src[k] !== '\n') k += src[k] === '\\' ? 2 : 1;
      blank(i + 1, k);
      i = k + 1;
      prev = ch;
    } else if (ch === '`') {
      i = template(i + 1);
      prev = '`';
    } else if (
      ch === '/' &&
      (prev === '' ||
        REGEX_AFTER.has(prev) ||
        REGEX_AFTER_WORD.test(src.slice(Math.max(0, i - 12), i).trimEnd()))
    ) {
      let k = i + 1;
      let inClass = false;
      for (; k < src.length && src[k] !== '\n'; k++) {
        if (src[k] === '\\') k++;
        else if (src[k] === '[') inClass = true;
        else if (src[k] === ']') inClass = false;
        else if (src[k] === '/' && !inClass) break;
      }
      blank(i + 1, k);
      i = k + 1;
      prev = '/';
    } else {
      if (ch === '{') braces.push('code');
      if (ch === '}' && braces.pop() === 'template') {
        i = template(i + 1);
        prev = '`';
        continue;
      }
      if (!/\s/.test(ch)) prev = ch;
      i++;
    }
  }
  return out.join('');
}

/** The top-level arguments of the call whose `(` is at `open` in masked source, or undefined if unbalanced. */
function callArgs(masked: string, open: number): { args: SourceRange[]; end: number } | undefined {
  const args: SourceRange[] = [];
  let depth = 0;
  let start = open + 1;
  for (let k = open; k < masked.length; k++) {
    const ch = masked[k];
    if (ch === '(' || ch === '[' || ch === '{') {
      depth++;
    } else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        if (masked.slice(start, k).trim() !== '') args.push({ start, end: k });
        return { args, end: k + 1 };
      }
    } else if (ch === ',' && depth === 1) {
      args.push({ start, end: k });
      start = k + 1;
    }
  }
  return undefined;
}

/** The value of a plain string literal ('...', "..." or a backtick literal without `${`), else undefined. */
function stringLiteral(text: string): string | undefined {
  const m = /^(['"`])([\s\S]*)\1$/.exec(text.trim());
  if (!m || (m[1] === '`' && m[2].includes('${'))) return undefined;
  return m[2].replace(/\\(.)/g, (_e, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
}

const TEST_CALL = /(?<![\w$.])(?:it|test)(?:\s*\.\s*(?:only|concurrent|failing))*\s*\(/g;

/**
 * Where the body of a test is: the arguments after its title. With Jest's location of the test,
 * exactly that call (for `it.each(table)(title, fn)` Jest points at the second call); without one,
 * every `it`/`test` call in the file whose plain string title is `title`.
 */
export function findTestBodies(source: string, title: string, location?: TestLocation | null): SourceRange[] {
  const masked = maskSource(source);
  const body = (open: number): SourceRange | undefined => {
    const call = callArgs(masked, open);
    if (!call || call.args.length < 2) return undefined;
    return { start: call.args[1].start, end: call.args[call.args.length - 1].end };
  };
  if (location) {
    const lines = source.split('\n');
    if (location.line < 1 || location.line > lines.length) return [];
    const offset =
      lines.slice(0, location.line - 1).reduce((n, l) => n + l.length + 1, 0) +
      Math.max(0, location.column - 1);
    const open = masked.indexOf('(', offset);
    const found = open < 0 ? undefined : body(open);
    return found ? [found] : [];
  }
  const bodies: SourceRange[] = [];
  for (const m of masked.matchAll(TEST_CALL)) {
    const open = (m.index ?? 0) + m[0].length - 1;
    const call = callArgs(masked, open);
    if (!call || call.args.length < 2) continue;
    const name = stringLiteral(source.slice(call.args[0].start, call.args[0].end));
    if (name !== undefined && collapse(name) === collapse(title)) {
      const found = body(open);
      if (found) bodies.push(found);
    }
  }
  return bodies;
}

const CALL = /(?<![\w$.])([A-Za-z_$][\w$]*(?:\s*\.\s*[\w$]+)?)\s*\(/g;
const LITERAL = /^(?:-?(?:\d[\w.]*|\.\d\w*)|true|false|null|undefined|NaN|-?Infinity|(['"`])\s*\1)$/;
const BUILDER = /^(?:await\s+)?an?[A-Z][\w$]*\s*\(/;
/**
 * Assertion calls: `expect(`, `assert(`, `assert.x(`, `x.assert(` (fast-check's `fc.assert`), and
 * helpers named `expectX(` / `assertX(`; not `expect.any(` and the like.
 */
const ASSERTION_NAME = /^(?:(?:expect|assert)(?:[A-Z][\w$]*)?|assert\.[\w$]+|[\w$]+\.assert)$/;
const FUNCTION_DECL = /(?<![\w$.])function\s*\*?\s*([A-Za-z_$][\w$]*)\s*(?:<[^>(]*>)?\s*\(/g;
const ARROW_DECL =
  /(?<![\w$.])(?:const|let)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]+)?=\s*(?:async\s+)?(?:function\b|\(|[A-Za-z_$][\w$]*\s*=>)/g;

/** Functions declared in the file (`function f(...) {...}`, `const f = (...) => ...`): name -> body range. */
function localFunctions(masked: string): Map<string, SourceRange> {
  const found = new Map<string, SourceRange>();
  for (const m of masked.matchAll(FUNCTION_DECL)) {
    const params = callArgs(masked, (m.index ?? 0) + m[0].length - 1);
    const open = params ? masked.indexOf('{', params.end) : -1;
    const block = open < 0 ? undefined : callArgs(masked, open);
    if (block && !found.has(m[1])) found.set(m[1], { start: open, end: block.end });
  }
  for (const m of masked.matchAll(ARROW_DECL)) {
    // The initialiser runs to the end of the statement: `;` or a line break outside brackets.
    const from = (m.index ?? 0) + m[0].length - 1;
    let depth = 0;
    let k = from;
    for (; k < masked.length; k++) {
      const ch = masked[k];
      if ('([{'.includes(ch)) depth++;
      else if (')]}'.includes(ch)) {
        if (depth === 0) break;
        depth--;
      } else if (
        depth === 0 &&
        (ch === ';' ||
          (ch === '\n' &&
            !/[=>(,{[+\-*/&|?:]\s*$/.test(masked.slice(from, k)) &&
            !/^\s*[.?:)\]}]/.test(masked.slice(k + 1, k + 200))))
      )
        break;
    }
    if (!found.has(m[1])) found.set(m[1], { start: from, end: k });
  }
  return found;
}

/** The subject of an assertion or helper call is trivial when it is a literal or a builder call alone. */
function trivialSubject(arg: string): boolean {
  const builder = BUILDER.exec(arg);
  return LITERAL.test(arg) || (builder !== null && callArgs(arg, builder[0].length - 1)?.end === arg.length);
}

/**
 * Whether a test body asserts on the system under test: at least one `expect(...)`, `assert(...)`
 * or `assert.x(...)` (or an `expectX(...)`/`assertX(...)` helper, or a function declared in the
 * same file that itself asserts so) whose subject is neither a literal nor a test-data builder
 * call alone (`aPatientCreate(...)`, `anAppointment(...)`). Returns why not, or undefined when it does.
 */
export function judgeTestBody(source: string, range: SourceRange): string | undefined {
  const masked = maskSource(source);
  const helpers = localFunctions(masked);
  const trivial: string[] = [];
  const asserts = (r: SourceRange, seen: ReadonlySet<string>, depth: number): boolean => {
    const text = masked.slice(r.start, r.end);
    let meaningful = false;
    for (const m of text.matchAll(CALL)) {
      const name = m[1].replace(/\s+/g, '');
      const helper = helpers.get(name);
      const isAssertion = ASSERTION_NAME.test(name);
      const isHelper = !isAssertion && helper !== undefined && !seen.has(name) && depth < 3;
      if (!isAssertion && !isHelper) continue;
      const open = r.start + (m.index ?? 0) + m[0].length - 1;
      const call = callArgs(masked, open);
      const subject = call?.args[0];
      const arg = subject === undefined ? '' : masked.slice(subject.start, subject.end).trim();
      if (isHelper) {
        if (
          asserts(helper, new Set([...seen, name]), depth + 1) &&
          (subject === undefined || !trivialSubject(arg))
        )
          meaningful = true;
        continue;
      }
      if (call !== undefined && subject !== undefined && !trivialSubject(arg)) {
        meaningful = true;
      } else if (depth === 0) {
        const shown = source.slice(r.start + (m.index ?? 0), call ? call.end : open + 1).replace(/\s+/g, ' ');
        trivial.push(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown);
      }
    }
    return meaningful;
  };
  if (asserts(range, new Set(), 0)) return undefined;
  if (trivial.length === 0) return 'no expect(...) or assert(...) in its body';
  return `its only assertions are on a literal or a test-data builder: ${trivial.join('; ')}`;
}

// ---------------------------------------------------------------------------------------------
// Jest JSON report

export interface JestAssertion {
  title: string;
  fullName?: string | null;
  ancestorTitles?: string[];
  status: string;
  /** Where the test is declared (1-based line and column); present with `jest --testLocationInResults`. */
  location?: TestLocation | null;
}

export interface JestFileResult {
  name: string;
  status?: string;
  message?: string;
  assertionResults: JestAssertion[];
}

export interface JestReport {
  testResults: JestFileResult[];
}

export type ReportInput =
  { state: 'loaded'; json: unknown } | { state: 'missing' } | { state: 'unreadable'; error: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validate the parts of Jest's `--json` output we use. Returns an error string when invalid. */
export function validateJestReport(json: unknown): JestReport | string {
  if (!isRecord(json) || !Array.isArray(json.testResults))
    return 'expected an object with a testResults array';
  for (const [i, fr] of json.testResults.entries()) {
    if (!isRecord(fr) || typeof fr.name !== 'string') return `testResults[${i}].name must be a string`;
    if (!Array.isArray(fr.assertionResults)) return `testResults[${i}].assertionResults must be an array`;
    for (const [j, a] of fr.assertionResults.entries()) {
      const where = `testResults[${i}].assertionResults[${j}]`;
      if (!isRecord(a) || typeof a.title !== 'string' || typeof a.status !== 'string') {
        return `${where} must have string title and status`;
      }
      if (a.fullName !== undefined && a.fullName !== null && typeof a.fullName !== 'string') {
        return `${where}.fullName must be a string`;
      }
      if (
        a.ancestorTitles !== undefined &&
        !(Array.isArray(a.ancestorTitles) && a.ancestorTitles.every((t) => typeof t === 'string'))
      ) {
        return `${where}.ancestorTitles must be an array of strings`;
      }
      if (
        a.location !== undefined &&
        a.location !== null &&
        !(isRecord(a.location) && Number.isInteger(a.location.line) && Number.isInteger(a.location.column))
      ) {
        return `${where}.location must be {line, column}`;
      }
    }
  }
  return json as unknown as JestReport;
}

interface IndexedFile {
  abs: string;
  rel: string | undefined;
  result: JestFileResult;
}

/** Jest report indexed by file, resolving absolute names against the repo root. */
export class ReportIndex {
  private readonly files: IndexedFile[];

  constructor(report: JestReport, root: string) {
    const r = root.replace(/\\/g, '/').replace(/\/+$/, '');
    this.files = report.testResults.map((result) => {
      const abs = result.name.replace(/\\/g, '/');
      const rel = abs.startsWith(`${r}/`) ? path.posix.normalize(abs.slice(r.length + 1)) : undefined;
      return { abs, rel, result };
    });
  }

  /**
   * Results for a repo-relative file. Exact match under the root first; otherwise (report written
   * in another checkout, e.g. CI) any reported file whose absolute path ends with `/<relPath>`.
   */
  lookup(relPath: string): JestFileResult[] {
    const exact = this.files.filter((f) => f.rel === relPath);
    if (exact.length > 0) return exact.map((f) => f.result);
    return this.files
      .filter((f) => f.rel === undefined && f.abs.endsWith(`/${relPath}`))
      .map((f) => f.result);
  }
}

export function assertionFullName(a: JestAssertion): string {
  const full = typeof a.fullName === 'string' && a.fullName.trim() !== '' ? a.fullName : undefined;
  return collapse(full ?? [...(a.ancestorTitles ?? []), a.title].join(' '));
}

// ---------------------------------------------------------------------------------------------
// Checking

export interface ModuleSource {
  module: string;
  /** Repo-relative paths, used in problems and output. */
  matrixFile: string;
  specFile: string;
  /** File contents; undefined when the file does not exist. */
  matrix: string | undefined;
  spec: string | undefined;
}

export type RefStatus =
  | 'passed'
  | 'failed'
  | 'no-assertion'
  | 'not-passed'
  | 'not-run'
  | 'test-missing'
  | 'file-missing'
  | 'invalid'
  | 'unknown';

export type RequirementStatus =
  'PASS' | 'FAIL' | 'NO ASSERTION' | 'SKIPPED' | 'NOT RUN' | 'MISSING' | 'NO TESTS' | 'NO REPORT';

export interface RequirementResult {
  id: string;
  categoryText: string;
  status: RequirementStatus;
  testCount: number;
  line: number;
}

export interface ModuleResult {
  module: string;
  matrixFile: string;
  offline: boolean;
  requirements: RequirementResult[];
}

export interface CheckInput {
  /** Absolute repo root, used to resolve the absolute file names in the Jest report. */
  root: string;
  modules: ModuleSource[];
  /** Path of the report as shown in problems. */
  reportFile: string;
  report: ReportInput;
  /** Repo-relative paths (as returned by referencedTestFiles) that exist as files. */
  existingFiles: ReadonlySet<string>;
  /**
   * Sources of the existing referenced test files (repo-relative path -> text). When given, every
   * cited test that passed must also assert on the system under test (see `judgeTestBody`).
   */
  testSources?: ReadonlyMap<string, string>;
}

export interface CheckResult {
  modules: ModuleResult[];
  problems: Problem[];
}

/** Every well-formed test file path named by the matrices, for the caller to stat. */
export function referencedTestFiles(modules: readonly ModuleSource[]): string[] {
  const paths = new Set<string>();
  for (const m of modules) {
    if (m.matrix === undefined) continue;
    for (const r of parseMatrix(m.matrix, m.matrixFile).requirements) {
      for (const t of r.tests) if (t.error === undefined) paths.add(t.path);
    }
  }
  return [...paths].sort();
}

const SEVERITY: readonly RequirementStatus[] = [
  'NO TESTS',
  'MISSING',
  'FAIL',
  'NO ASSERTION',
  'NOT RUN',
  'SKIPPED',
  'NO REPORT',
  'PASS',
];

function refToRequirementStatus(s: RefStatus): RequirementStatus {
  switch (s) {
    case 'passed':
      return 'PASS';
    case 'failed':
      return 'FAIL';
    case 'no-assertion':
      return 'NO ASSERTION';
    case 'not-passed':
      return 'SKIPPED';
    case 'not-run':
      return 'NOT RUN';
    case 'test-missing':
    case 'file-missing':
    case 'invalid':
      return 'MISSING';
    case 'unknown':
      return 'NO REPORT';
  }
}

function worst(statuses: RequirementStatus[]): RequirementStatus {
  return statuses.reduce<RequirementStatus>(
    (acc, s) => (SEVERITY.indexOf(s) < SEVERITY.indexOf(acc) ? s : acc),
    'PASS',
  );
}

function firstLine(s: string | undefined): string {
  const line = (s ?? '').split(/\r?\n/).find((l) => l.trim() !== '');
  return line === undefined ? 'no message' : line.trim();
}

interface RefVerdict {
  status: RefStatus;
  message?: string;
}

function judgeRef(ref: TestRef, input: CheckInput, index: ReportIndex | undefined): RefVerdict {
  const label = `${ref.path}::${ref.name}`;
  if (ref.error !== undefined)
    return { status: 'invalid', message: `invalid test reference "${ref.raw}": ${ref.error}` };
  if (!input.existingFiles.has(ref.path))
    return { status: 'file-missing', message: `test file not found: ${ref.path}` };
  if (!index) return { status: 'unknown' };

  const fileResults = index.lookup(ref.path);
  if (fileResults.length === 0) {
    return { status: 'not-run', message: `test file not run (absent from ${input.reportFile}): ${ref.path}` };
  }
  const assertions = fileResults.flatMap((f) => f.assertionResults);
  const matches = assertions.filter((a) => assertionFullName(a) === ref.name);
  if (matches.length === 0) {
    const crashed = fileResults.find((f) => f.status === 'failed' && f.assertionResults.length === 0);
    if (crashed) {
      return {
        status: 'failed',
        message: `test file failed to run: ${ref.path}: ${firstLine(crashed.message)}`,
      };
    }
    const lower = ref.name.toLowerCase();
    const hint = assertions
      .map(assertionFullName)
      .find((n) => n.toLowerCase() === lower || n.endsWith(` ${ref.name}`) || ref.name.endsWith(` ${n}`));
    return {
      status: 'test-missing',
      message:
        `test not found in ${ref.path}: "${ref.name}"` +
        (hint !== undefined
          ? ` (did you mean "${hint}"? names must be Jest's fullName: describe blocks + title)`
          : ''),
    };
  }
  if (matches.some((a) => a.status === 'failed'))
    return { status: 'failed', message: `test failed: ${label}` };
  const notPassed = matches.find((a) => a.status !== 'passed');
  if (notPassed) {
    return { status: 'not-passed', message: `test did not pass (status: ${notPassed.status}): ${label}` };
  }
  const source = input.testSources?.get(ref.path);
  if (source !== undefined) {
    for (const a of matches) {
      const bodies = findTestBodies(source, a.title, a.location);
      if (bodies.length === 0) {
        return {
          status: 'no-assertion',
          message:
            `cannot find the body of the cited test in ${ref.path}: "${ref.name}" ` +
            '(run Jest with --testLocationInResults, or give the test a plain string title)',
        };
      }
      for (const body of bodies) {
        const verdict = judgeTestBody(source, body);
        if (verdict !== undefined) {
          return {
            status: 'no-assertion',
            message: `cited test does not assert on the system under test (${verdict}): ${label}`,
          };
        }
      }
    }
  }
  return { status: 'passed' };
}

/** Run every check. Problems come back in module order, then file/line order within a module. */
export function checkTrace(input: CheckInput): CheckResult {
  const problems: Problem[] = [];
  const results: ModuleResult[] = [];

  let index: ReportIndex | undefined;
  switch (input.report.state) {
    case 'missing':
      problems.push({
        file: input.reportFile,
        message: `Jest report not found; run: npx jest --json --outputFile=${input.reportFile}`,
      });
      break;
    case 'unreadable':
      problems.push({ file: input.reportFile, message: `Jest report unreadable: ${input.report.error}` });
      break;
    case 'loaded': {
      const report = validateJestReport(input.report.json);
      if (typeof report === 'string') {
        problems.push({ file: input.reportFile, message: `not a Jest JSON report: ${report}` });
      } else {
        index = new ReportIndex(report, input.root);
      }
      break;
    }
  }

  const withMatrix = input.modules.filter((m) => m.matrix !== undefined);
  if (withMatrix.length === 0) {
    problems.push({ file: MODULES_DIR, message: `no ${MODULES_DIR}/<module>/${MATRIX_FILE} found` });
  }

  for (const mod of [...input.modules].sort((a, b) => a.module.localeCompare(b.module))) {
    const modProblems: Problem[] = [];
    if (mod.matrix === undefined) {
      problems.push({
        file: mod.specFile,
        message: `module "${mod.module}" has ${SPEC_FILE} but no ${MATRIX_FILE} (expected ${mod.matrixFile})`,
      });
      continue;
    }
    const claim =
      mod.spec === undefined ? { claimed: false, problems: [] } : findOfflineClaim(mod.spec, mod.specFile);
    modProblems.push(...claim.problems);

    const parsed = parseMatrix(mod.matrix, mod.matrixFile);
    modProblems.push(...parsed.problems);

    const reqResults: RequirementResult[] = [];
    for (const req of parsed.requirements) {
      let status: RequirementStatus;
      if (req.tests.length === 0) {
        status = 'NO TESTS';
        modProblems.push({ file: mod.matrixFile, line: req.line, message: `${req.id}: names no test` });
      } else {
        const verdicts = req.tests.map((t) => judgeRef(t, input, index));
        for (const v of verdicts) {
          if (v.message !== undefined) {
            modProblems.push({ file: mod.matrixFile, line: req.line, message: `${req.id}: ${v.message}` });
          }
        }
        status = worst(verdicts.map((v) => refToRequirementStatus(v.status)));
      }
      reqResults.push({
        id: req.id,
        categoryText: req.categoryText,
        status,
        testCount: req.tests.length,
        line: req.line,
      });
    }

    if (parsed.tableLine !== undefined && parsed.requirements.length === 0) {
      modProblems.push({
        file: mod.matrixFile,
        line: parsed.tableLine,
        message: 'matrix lists no requirements',
      });
    }

    if (claim.claimed) {
      const present = new Set(parsed.requirements.map((r) => r.category));
      for (const cat of OFFLINE_REQUIRED_CATEGORIES) {
        if (!present.has(cat)) {
          modProblems.push({
            file: mod.matrixFile,
            line: parsed.tableLine ?? 1,
            message:
              `module "${mod.module}" claims offline support (${mod.specFile}:${claim.line}) ` +
              `but has no requirement in category "${cat}"`,
          });
        }
      }
    }

    modProblems.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0));
    problems.push(...modProblems);
    results.push({
      module: mod.module,
      matrixFile: mod.matrixFile,
      offline: claim.claimed,
      requirements: reqResults,
    });
  }

  return { modules: results, problems };
}
