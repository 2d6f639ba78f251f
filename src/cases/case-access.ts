import { BulwarkError } from '../errors.ts';
import type { Reviewer } from '../reviewers/reviewer-service.ts';
import type { SqlClient } from '../store/sql.ts';
import type { CaseRow } from './case-rows.ts';
import { maySeeQueue, queueRecord } from './queues.ts';

/** Refuses a reviewer the cases of queues they may not see, without saying whether the case exists. */
export async function assertMaySee(client: SqlClient, row: CaseRow, reviewer: Reviewer | undefined): Promise<void> {
  if (!reviewer) return;
  const queue = await queueRecord(client, row.queue);
  if (!queue || !maySeeQueue(reviewer, queue)) throw new BulwarkError('forbidden', `case ${row.id} is in a queue you may not see`);
}

export function assertNotExcluded(row: CaseRow, reviewer: Pick<Reviewer, 'id' | 'username'>): void {
  if (row.excluded_reviewer_id !== null && row.excluded_reviewer_id === reviewer.id) {
    throw new BulwarkError('forbidden', `${reviewer.username} made the decision under appeal in case ${row.id}; another reviewer must decide it`);
  }
}

/**
 * Media is for the reviewer holding the case, and for leads. The claim must still be live:
 * once it lapses the case is back in its queue and its media closes to the former holder.
 */
export function assertMayOpenMedia(row: CaseRow, reviewer: Reviewer): void {
  if (reviewer.role !== 'reviewer') return;
  const holder = row.status === 'claimed' && row.claimed_by === reviewer.id;
  if (!holder) throw new BulwarkError('forbidden', `claim case ${row.id} to see its media`);
  const live = row.claimed_until !== null && row.claimed_until.getTime() > Date.now();
  if (!live) throw new BulwarkError('forbidden', `your claim on case ${row.id} has lapsed and the case is back in its queue; claim it again to see its media`);
}
