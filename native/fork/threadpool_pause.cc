#include "fork/threadpool_pause.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

namespace mp {

struct ThreadpoolPause::State {
  std::mutex mutex;
  std::condition_variable changed;
  int parked = 0;
  bool released = false;
};

namespace {

// One parked job; it owns a share of the state, so the state outlives the
// pause object until the last job's after-callback has run on the loop.
struct Job {
  uv_work_t request;
  std::shared_ptr<ThreadpoolPause::State> state;
};

void Park(uv_work_t* request) {
  auto* job = static_cast<Job*>(request->data);
  ThreadpoolPause::State& state = *job->state;
  std::unique_lock<std::mutex> lock(state.mutex);
  ++state.parked;
  state.changed.notify_all();
  state.changed.wait(lock, [&] { return state.released; });
}

void Done(uv_work_t* request, int) { delete static_cast<Job*>(request->data); }

}  // namespace

int ThreadpoolSize() {
  const char* value = std::getenv("UV_THREADPOOL_SIZE");
  int size = value == nullptr ? 4 : std::atoi(value);
  if (size <= 0) size = 1;
  if (size > 1024) size = 1024;
  return size;
}

ThreadpoolPause::ThreadpoolPause(uv_loop_t* loop, int timeoutMs) : state_(std::make_shared<State>()) {
  int threads = ThreadpoolSize();
  int queued = 0;
  for (; queued < threads; ++queued) {
    auto* job = new Job{{}, state_};
    job->request.data = job;
    if (uv_queue_work(loop, &job->request, Park, Done) != 0) {
      delete job;
      break;
    }
  }
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->changed.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return state_->parked >= queued; });
  if (queued < threads) state_->parked = -1;  // could not park them all: never Complete()
}

bool ThreadpoolPause::Complete() const {
  if (state_ == nullptr) return false;
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->parked >= ThreadpoolSize();
}

ThreadpoolPause::~ThreadpoolPause() {
  if (state_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->released = true;
  }
  state_->changed.notify_all();
}

void ThreadpoolPause::AbandonInChild() {
  // Leaked on purpose: destroying a mutex a vanished thread may have held is undefined.
  new std::shared_ptr<State>(std::move(state_));
  state_ = nullptr;
}

}  // namespace mp
