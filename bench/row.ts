/** One row of the bench's results table (bench/run.ts prints them; push.ts and toolkit.ts add theirs). */
export interface BenchRow {
  figure: string;
  value: string;
  limit: string;
  ratio?: string;
  target: string;
  /** Whether the target is met; left out when the row has no target to meet. */
  met?: boolean;
}
