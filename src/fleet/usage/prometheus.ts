// node_exporter textfile collector output: cost and tokens per department and model for a
// range, in the Prometheus text exposition format (checked by `promtool check metrics`).
import type { UsageRow } from './report.js';
import type { TimeRange } from './range.js';

export function label(v: string | null): string {
  return (v ?? '').replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function prometheusText(rows: UsageRow[], opts: { range: TimeRange; now: Date; types: number[] }): string {
  const metrics: Array<[string, string, keyof UsageRow]> = [
    ['sayclaw_usage_cost_usd', 'Cost in USD of One API requests in the range, by department and model.', 'cost_usd'],
    ['sayclaw_usage_prompt_tokens', 'Prompt tokens of One API requests in the range, by department and model.', 'prompt_tokens'],
    ['sayclaw_usage_completion_tokens', 'Completion tokens of One API requests in the range, by department and model.', 'completion_tokens'],
    ['sayclaw_usage_requests', 'One API requests in the range, by department and model.', 'requests'],
  ];
  const lines: string[] = [];
  for (const [name, help, key] of metrics) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const r of rows) lines.push(`${name}{department="${label(r.department ?? null)}",model="${label(r.model_name ?? null)}"} ${r[key]}`);
  }
  lines.push('# HELP sayclaw_usage_range_start_seconds Start of the reported range (unix seconds).', '# TYPE sayclaw_usage_range_start_seconds gauge',
    `sayclaw_usage_range_start_seconds ${opts.range.from}`,
    '# HELP sayclaw_usage_range_end_seconds End of the reported range, exclusive (unix seconds).', '# TYPE sayclaw_usage_range_end_seconds gauge',
    `sayclaw_usage_range_end_seconds ${opts.range.to}`,
    '# HELP sayclaw_usage_export_timestamp_seconds When this file was written (unix seconds).', '# TYPE sayclaw_usage_export_timestamp_seconds gauge',
    `sayclaw_usage_export_timestamp_seconds ${Math.floor(opts.now.getTime() / 1000)}`);
  return `${lines.join('\n')}\n`;
}
