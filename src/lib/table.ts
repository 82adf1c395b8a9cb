import Table from 'cli-table3';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | null | undefined;
}

/** A plain, borderless table for humans; --json output never goes through here. */
export function renderTable<Row>(rows: Row[], columns: Column<Row>[]): string {
  const table = new Table({
    head: columns.map((c) => c.header),
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '',
    },
  });
  for (const row of rows) table.push(columns.map((c) => String(c.value(row) ?? '')));
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
