// Columns of instance lists, shared by ls and the write verbs' previews.
import type { Column } from '../../src/output/render.js';
import type { InstanceListRow } from '../../src/fleet/instances/ls.js';

const health = (v: unknown, t: string) => (v === 'healthy' ? `\x1b[32m${t}\x1b[39m` : v === 'unhealthy' ? `\x1b[31m${t}\x1b[39m` : `\x1b[33m${t}\x1b[39m`);

export const INSTANCE_COLUMNS: Column<InstanceListRow>[] = [
  { key: 'id' },
  { key: 'server_name', header: 'SERVER' },
  { key: 'region' },
  { key: 'assigned_email', header: 'USER' },
  { key: 'model' },
  { key: 'health_status', header: 'HEALTH', color: health },
  { key: 'gateway_port', header: 'PORT' },
  { key: 'total_requests', header: 'REQUESTS' },
  { key: 'total_tokens', header: 'TOKENS' },
  { key: 'last_health_at', header: 'LAST HEALTH', relative: true },
  { key: 'container_id', header: 'CONTAINER', wide: true },
  { key: 'gateway_url', header: 'GATEWAY URL', wide: true },
  { key: 'gateway_token', header: 'TOKEN', wide: true },
  { key: 'created_at', header: 'CREATED', wide: true },
  { key: 'deleted_at', header: 'DELETED', wide: true },
];

/** The short preview printed before a write. */
export const PREVIEW_COLUMNS: Column<InstanceListRow>[] = INSTANCE_COLUMNS.filter((c) =>
  ['id', 'server_name', 'region', 'assigned_email', 'model', 'health_status', 'deleted_at'].includes(c.key)).map((c) => ({ ...c, wide: false }));
