// Descriptors passed over Unix sockets (SCM_RIGHTS): building the control
// message and reading it back, for ipc.cc and conn.cc alike.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <vector>

namespace mp {
namespace rights {

constexpr size_t kMaxFds = 64;  // per message, either way

union Control {
  cmsghdr header;
  char bytes[CMSG_SPACE(sizeof(int) * kMaxFds)];
};

// Attaches `count` (at most kMaxFds) descriptors to `msg`, in `control`.
void Attach(msghdr* msg, Control* control, const int* fds, size_t count);

// The descriptors the SCM_RIGHTS messages in `msg` carried, in order.
std::vector<int> Received(msghdr* msg);

}  // namespace rights
}  // namespace mp
