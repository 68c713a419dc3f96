// oc_instances.config_json holds the instance's OpenClaw config, which is JSON5 (comments,
// trailing commas, unquoted keys, single quotes). Parsed with the json5 library; a row that does
// not parse is reported by position only: its text may hold secrets, so none of it is echoed.

export interface ParsedConfig {
  /** the parsed value (null when the column is empty or does not parse) */
  config: unknown;
  /** "config_json does not parse as JSON5 at line L col C", or null */
  error: string | null;
}

export async function parseConfigJson(text: string | null): Promise<ParsedConfig> {
  if (text === null || text.trim() === '') return { config: null, error: null };
  const m = await import('json5');
  // bundled by esbuild the CommonJS module may arrive as { default: module.exports }
  const JSON5 = (m as unknown as { default?: typeof m }).default ?? m;
  try {
    return { config: JSON5.parse(text), error: null };
  } catch (e) {
    const { lineNumber, columnNumber } = e as { lineNumber?: number; columnNumber?: number };
    const at = typeof lineNumber === 'number' ? ` at line ${lineNumber} col ${columnNumber ?? 0}` : '';
    return { config: null, error: `config_json does not parse as JSON5${at}` };
  }
}
