import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { instructionKind, splitAnnotated } from '../bench/instructions.js';

// How the bench's instruction counts split a callgrind profile into V8's garbage collector, its
// optimizing compilers and the program's own work. The fixture is real callgrind_annotate 3.19
// output (its header, totals and a sample of its per-function rows) from `node --single-threaded`.
const ANNOTATED = readFileSync(new URL('./fixtures/callgrind-annotate.txt', import.meta.url), 'utf8');

describe('bench instruction split', () => {
  it('sums the collector and compiler rows of callgrind_annotate, never the program total', () => {
    // ScavengeObject, the promoted-objects visitor, Heap::AllocateRawOrFail and ScavengePage; GraphReducer.
    expect(splitAnnotated(ANNOTATED)).toEqual({ gc: 62_987_235 + 32_550_271 + 1_672_818 + 12_444_676, compiler: 296_145 });
  });

  it.each([
    ['heap::base::SlotCallbackResult v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>(…)', 'gc'],
    ['v8::internal::MarkCompactCollector::CollectGarbage()', 'gc'],
    ['v8::internal::ConcurrentMarking::RunMajor(…)', 'gc'],
    ['v8::internal::PagedSpaceBase::RefillLabMain(int, v8::internal::AllocationOrigin)', 'gc'],
    ['cppgc::internal::MarkerBase::AdvanceMarkingWithLimits(…)', 'gc'],
    ['v8::internal::compiler::GraphReducer::ReduceTop()', 'compiler'],
    ['v8::internal::maglev::MaglevGraphBuilder::Build()', 'compiler'],
    // The write barrier and the allocation of a new object run in the program's own work.
    ['Builtins_RecordWriteSaveFP', 'work'],
    ['v8::internal::ReadOnlyHeap::Contains(v8::internal::HeapObject)', 'work'],
    ['v8::internal::LookupIterator::State v8::internal::LookupIterator::LookupInRegularHolder<false>(…)', 'work'],
    ['ossl_lh_strcasehash', 'work'],
    ['./malloc/./malloc/malloc.c:_int_free', 'work'],
  ] as const)('counts %s as %s', (symbol, kind) => {
    expect(instructionKind(symbol)).toBe(kind);
  });
});
