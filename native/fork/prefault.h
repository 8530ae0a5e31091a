// Learned prefaulting for the forkserver's warm children. A fork child pays
// a copy-on-write fault (~2.7 us on a VM) for each page it first writes. A
// child reports which pages it wrote (hotPages); a warm child, still idle,
// copies those pages in a few madvise(MADV_POPULATE_WRITE) calls
// (populate), so the child a request is handed to takes few faults. It
// changes no byte of memory, only when the copies are made.
#pragma once

#include <napi.h>

namespace mp {

void InitPrefault(Napi::Env env, Napi::Object exports);

}  // namespace mp
