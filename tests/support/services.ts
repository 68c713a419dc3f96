// Where the test servers are, and a clear failure when they are not running.
export const TEST_MYSQL_URL = process.env.SAYCLAW_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const TEST_PG_URL = process.env.SAYCLAW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const HOW_TO_START = 'start them with: bash scripts/services.sh (installs and starts MariaDB and PostgreSQL)';

export function mysqlParts(url = TEST_MYSQL_URL): { host: string; port: number; user: string; password: string } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'), password: decodeURIComponent(u.password) };
}
export function pgParts(url = TEST_PG_URL): { host: string; port: number; user: string; password: string; database: string } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres'), password: decodeURIComponent(u.password), database: u.pathname.replace(/^\//, '') || 'postgres' };
}
