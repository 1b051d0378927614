// Keeps dlq.job from growing while jobs churn: the pages an enqueue leaves are pruned once their jobs are
// done, and their room is entered in the free space map, where the next enqueue that needs a page finds it.
//
// dlq.job has fillfactor 40 so that a claim's new row version fits on its page (a HOT update). Its
// price: an insert needs the tuple's length plus 60 % of the page free, and when its page is short of
// that it records the page's free space in the free space map and takes another page from the map, or
// extends the table. The page's jobs are then claimed, completed and pruned on access, but pruning does
// not update the map, so that room was not reused until a vacuum recorded it. Under a steady
// enqueue → claim → complete load the table grew by a page every ~15 jobs (48 MB in 10 s at 10,000
// jobs/s), in batches of 100 by 560 MB in 10 s.
//
// Each backend remembers the last pages its enqueues left. Before an enqueue, it prunes the oldest of
// them whose deleted rows no transaction can see any more, and records the room this leaves; a page with
// nothing to prune yet (its jobs not done, or a snapshot holding the horizon) waits its turn, and the
// oldest is forgotten when the list is full (vacuum still reclaims it). A page is offered again only
// while it has line pointers to spare: a deleted job's stays until a vacuum, and a page out of them
// cannot take a claim's new row version, which then costs new index entries.
#pragma once

#include "pg/pg_includes.hpp"

extern "C" {
#include "storage/block.h"
#include "utils/rel.h"
}

namespace dlq::pg::store {

// Before writing jobs to `job_rel` (opened, RowExclusiveLock): prunes and records the pages left by
// earlier enqueues that are ready, for the free space map to offer them to this write. Returns the page
// the write will try first, for NoteLeftPages.
BlockNumber ReuseLeftPages(Relation job_rel);

// After the write: `written` are the pages its tuples went to, in order. Every page it left (the one
// it tried first and every written page but the last) is remembered.
void NoteLeftPages(Relation job_rel, BlockNumber tried_first, const BlockNumber *written, int count);

} // namespace dlq::pg::store
