// Pure: benchmark rows → the terminal table and the markdown report.

export const COLUMNS = ['#', 'figure', 'unit', 'median', 'p95', 'p99', 'min–max', 'runs', 'CPU', 'peer', 'peer median', 'peer CPU', 'ratio', 'target', 'met'];

const DASH = '—';

/** One figure in its unit: rates and milliseconds as whole numbers (one decimal below 10), seconds with one or two decimals. */
export function formatValue(value, unit) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return DASH;
  if (unit === 's') return value < 10 ? value.toFixed(2) : value.toFixed(1);
  if (unit === 'ms' && Math.abs(value) < 10) return value.toFixed(1);
  if (unit === '×') return `${value.toFixed(2)}×`;
  return Math.round(value).toLocaleString('en-US');
}

const range = (s, unit) => (s && typeof s.min === 'number' ? `${formatValue(s.min, unit)}–${formatValue(s.max, unit)}` : DASH);
const withUnit = (value, unit) => (value === DASH ? DASH : `${value} ${unit}`);

export function metText(met) {
  if (met === true) return 'yes';
  if (met === false) return 'no';
  return DASH;
}

/** A row's cells, in COLUMNS order. A row that failed shows its error in place of its figures. */
export function rowCells(row) {
  const s = row.stats;
  const peer = row.peer;
  if (row.error)
    return [
      String(row.n),
      row.figure,
      row.unit ?? DASH,
      'error (see notes)',
      DASH,
      DASH,
      DASH,
      DASH,
      DASH,
      peer?.label ?? DASH,
      DASH,
      DASH,
      DASH,
      row.target ?? DASH,
      'error',
    ];
  const peerUnit = peer?.unit ?? row.unit;
  return [
    String(row.n),
    row.figure,
    row.unit ?? DASH,
    formatValue(s?.median, row.unit),
    formatValue(s?.p95, row.unit),
    formatValue(s?.p99, row.unit),
    range(s, row.unit),
    s?.n ? String(s.n) : DASH,
    row.cpu ? formatValue(row.cpu.median, row.unit) : DASH,
    peer?.label ?? DASH,
    peer?.stats ? withUnit(formatValue(peer.stats.median, peerUnit), peerUnit) : DASH,
    peer?.cpu ? withUnit(formatValue(peer.cpu.median, peerUnit), peerUnit) : DASH,
    row.ratio?.text ?? DASH,
    row.target ?? DASH,
    metText(row.met),
  ];
}

/** Fixed-width columns for a terminal; the widest cell sets each column. */
export function renderTable(rows) {
  const lines = [COLUMNS, ...rows.map(rowCells)];
  const widths = COLUMNS.map((_, i) => Math.max(...lines.map((cells) => [...cells[i]].length)));
  const fmt = (cells) =>
    cells
      .map((c, i) => c + ' '.repeat(widths[i] - [...c].length))
      .join('  ')
      .trimEnd();
  return [fmt(lines[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(fmt)].join('\n');
}

/** Each row's notes and error, one line each, for the terminal (below the table). */
export function renderNotes(rows) {
  const out = [];
  for (const row of rows) {
    if (row.error) out.push(`${row.n} ${row.name}: error: ${row.error}`);
    for (const note of row.notes ?? []) out.push(`${row.n} ${row.name}: ${note}`);
  }
  return out.join('\n');
}

const escapeCell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');

export function markdownTable(rows) {
  const head = `| ${COLUMNS.join(' | ')} |`;
  const rule = `|${COLUMNS.map(() => '---').join('|')}|`;
  return [head, rule, ...rows.map((r) => `| ${rowCells(r).map(escapeCell).join(' | ')} |`)].join('\n');
}

/** The whole report: title, machine, the table, informational lines, then the notes of every row. */
export function renderMarkdown(report) {
  const m = report.machine ?? {};
  const lines = [
    '# Benchmarks',
    '',
    `Measured by \`npm run bench${report.options?.short ? ' -- --short' : ''}\` (bench/run.mjs) from ${report.startedAt}; the whole run took ${formatValue(report.seconds, 's')} s.`,
    'Benchmarks never fail on a duration: `met` says whether the figure reached its target (issue 17); a row that could not be measured says why.',
    '',
    '`npm run bench` runs every row against real stacks (one shared native stack, its own PostgreSQL + tracking server for row 6, its own home and caches for row 9);',
    '`-- --short` is the reduced run `.ci/run` keeps calling, `-- --only NAME,…` picks rows, `-- --json FILE` / `-- --markdown FILE` write the results.',
    'Medians with min–max over runs; CPU = user + sys (hyperfine) beside wall time for the commands; ratios from the same run. The machine is shared: read the load average below.',
    '',
    '## Machine',
    '',
  ];
  for (const [key, value] of Object.entries(m)) lines.push(`- ${key}: ${value}`);
  lines.push('', '## Results', '', markdownTable(report.rows), '');
  if (report.info?.length) {
    lines.push('## Also measured', '');
    for (const line of report.info) lines.push(`- ${line}`);
    lines.push('');
  }
  lines.push('## Notes per row', '');
  for (const row of report.rows) {
    lines.push(`### ${row.n}. ${row.figure}`, '');
    if (row.error) lines.push(`- **error:** ${row.error}`);
    for (const note of row.notes ?? []) lines.push(`- ${note}`);
    if (!row.error && !(row.notes ?? []).length) lines.push('- (no notes)');
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
