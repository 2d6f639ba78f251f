-- "The case this reviewer already holds" is asked before every next case; without this index
-- it scans every undecided case of the queue.
CREATE INDEX cases_claimed_by ON cases (claimed_by, queue) WHERE status = 'claimed';
