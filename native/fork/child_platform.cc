#include "fork/child_platform.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace mp {
namespace child_platform {

namespace {

class Pool {
 public:
  explicit Pool(int threads) : threadCount_(threads < 1 ? 1 : threads) {}

  void Post(std::unique_ptr<v8::Task> task) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(task));
    StartThreadsLocked();
    wake_.notify_one();
  }

  void PostDelayed(std::unique_ptr<v8::Task> task, double seconds) {
    auto due = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(seconds < 0 ? 0 : seconds));
    std::lock_guard<std::mutex> lock(mutex_);
    delayed_.emplace(due, std::move(task));
    StartThreadsLocked();
    wake_.notify_one();
  }

  void Drain() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
  }

 private:
  using Clock = std::chrono::steady_clock;

  void StartThreadsLocked() {
    if (!threads_.empty()) return;
    for (int i = 0; i < threadCount_; ++i) {
      threads_.emplace_back([this] { Work(); });
      threads_.back().detach();  // the process ends with _exit
    }
  }

  void Work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      while (!delayed_.empty() && delayed_.begin()->first <= Clock::now()) {
        queue_.push_back(std::move(delayed_.begin()->second));
        delayed_.erase(delayed_.begin());
      }
      if (queue_.empty()) {
        if (delayed_.empty()) {
          wake_.wait(lock);
        } else {
          wake_.wait_until(lock, delayed_.begin()->first);
        }
        continue;
      }
      std::unique_ptr<v8::Task> task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      lock.unlock();
      task->Run();
      task.reset();
      lock.lock();
      --running_;
      if (queue_.empty() && running_ == 0) idle_.notify_all();
    }
  }

  const int threadCount_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::unique_ptr<v8::Task>> queue_;
  std::multimap<Clock::time_point, std::unique_ptr<v8::Task>> delayed_;
  int running_ = 0;
  std::vector<std::thread> threads_;
};

Pool* g_pool = nullptr;

// Same calling convention as the member functions they replace: `this`
// first, a std::unique_ptr argument passed by invisible reference.
void HookCallOnWorkerThread(v8::Platform* /*self*/, std::unique_ptr<v8::Task> task) {
  g_pool->Post(std::move(task));
}

void HookCallDelayedOnWorkerThread(v8::Platform* /*self*/, std::unique_ptr<v8::Task> task,
                                   double seconds) {
  g_pool->PostDelayed(std::move(task), seconds);
}

// The vtable slot of a virtual member function, from its pointer-to-member
// representation in the Itanium C++ ABI (used by gcc and clang on Linux and
// macOS). Returns -1 if the pointer does not denote a virtual function.
template <typename Pmf>
ptrdiff_t VtableSlot(Pmf pmf) {
  struct Rep {
    uintptr_t ptr;
    ptrdiff_t adj;
  } rep;
  static_assert(sizeof(Pmf) == sizeof(Rep), "unexpected member pointer size");
  std::memcpy(&rep, &pmf, sizeof rep);
#if defined(__aarch64__) || defined(__arm__)
  if ((rep.adj & 1) == 0) return -1;
  return static_cast<ptrdiff_t>(rep.ptr / sizeof(void*));
#else
  if ((rep.ptr & 1) == 0) return -1;
  return static_cast<ptrdiff_t>((rep.ptr - 1) / sizeof(void*));
#endif
}

}  // namespace

bool Install(v8::Platform* platform) {
  if (platform == nullptr || g_pool != nullptr) return g_pool != nullptr;
  ptrdiff_t postSlot = VtableSlot(&v8::Platform::CallOnWorkerThread);
  ptrdiff_t delayedSlot = VtableSlot(&v8::Platform::CallDelayedOnWorkerThread);
  if (postSlot < 0 || delayedSlot < 0) return false;
  // A copy of the object's vtable (with the two ABI words before the
  // address point), patched and installed in this process only.
  constexpr ptrdiff_t kPrefix = 2;
  constexpr ptrdiff_t kEntries = 96;
  if (postSlot >= kEntries || delayedSlot >= kEntries) return false;
  void** original = *reinterpret_cast<void***>(platform);
  void** copy = new void*[kPrefix + kEntries];
  std::memcpy(copy, original - kPrefix, sizeof(void*) * (kPrefix + kEntries));
  void** table = copy + kPrefix;
  table[postSlot] = reinterpret_cast<void*>(&HookCallOnWorkerThread);
  table[delayedSlot] = reinterpret_cast<void*>(&HookCallDelayedOnWorkerThread);
  g_pool = new Pool(std::min(platform->NumberOfWorkerThreads(), 2));
  *reinterpret_cast<void***>(platform) = table;
  return true;
}

void Drain() {
  if (g_pool != nullptr) g_pool->Drain();
}

}  // namespace child_platform
}  // namespace mp
