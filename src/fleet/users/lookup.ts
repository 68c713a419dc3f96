// What "no such portal user" says (exit 4): the closest emails or ids. Apart from the registry
// so instance assignment can use it without an import circle.
import type { Kysely } from 'kysely';
import type { MysqlDB } from '../../db/types.js';
import { NotFoundError } from '../../errors.js';
import { closestHint, closestNames, shownName } from '../suggest.js';

export async function userNotFound(db: Kysely<MysqlDB>, emailOrId: string): Promise<NotFoundError> {
  const close = await closestNames(db, { table: 'portal.users', columns: ['email', 'id'], scanAll: true }, emailOrId.toLowerCase());
  return new NotFoundError(`no such portal user: ${shownName(emailOrId)}`, { hint: closestHint(close, 'sayclaw users ls') });
}
