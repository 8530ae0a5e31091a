// Making the V8 heap visible to a fork() child.
//
// Node's V8 marks every page it allocates MADV_DONTFORK, so a plain fork()
// child has no JS heap. Before fork() every private anonymous mapping is set
// to MADV_DOFORK; afterwards the ones V8 had marked are set back, so that
// child_process.spawn (libuv forks, then execs) keeps its speed. Only
// /proc/self/smaps tells which mappings carry the flag, and it is slow
// (1.5 ms in a small process, 7 ms with a 200 MB heap), so its answer is
// kept and matched against the cheap /proc/self/maps at each fork; smaps is
// read again only when enough new anonymous memory has appeared. See
// docs/ARCHITECTURE.md, "Forking Node.js".
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mp {
namespace forkability {

struct Range {
  uintptr_t start;
  size_t length;
};

struct Plan {
  std::vector<Range> restore;  // ranges to set MADV_DONTFORK again
};

// Makes every range the child needs forkable. Returns 0 or an errno value.
int Prepare(Plan* plan);
// Marks the planned ranges MADV_DONTFORK again (parent and child alike).
void Restore(const Plan& plan);

}  // namespace forkability
}  // namespace mp
