/** `reading S3 [#########...........]  4,512/20,000 objects`, pure: the line the TTY shows while a build reads. */
export function progressLine(done: number, total: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  const count = (value: number) => value.toLocaleString('en-US');
  return `agent: dashboard: reading S3 [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count(done)}/${count(total)} objects`;
}
