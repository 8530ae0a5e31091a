#include "fork/child_loop.h"

namespace mp {

namespace {

void QueueInit(uv__queue* q) {
  q->next = q;
  q->prev = q;
}

void QueueRemove(uv__queue* q) {
  if (q->next == q) return;
  q->prev->next = q->next;
  q->next->prev = q->prev;
  q->next = q;
  q->prev = q;
}

bool IsLoopInternal(uv_loop_t* loop, uv__io_t* w) {
  if (w == &loop->async_io_watcher || w == &loop->signal_io_watcher) return true;
#if defined(__linux__)
  if (w == &loop->inotify_read_watcher) return true;
#endif
  return false;
}

uv_async_t* g_keepalive = nullptr;

}  // namespace

int AdoptLoopInChild(uv_loop_t* loop) {
  // The same steps uv__io_stop takes for a watcher whose last event is
  // removed; uv_loop_fork then re-arms only the loop's own watchers.
  for (unsigned int i = 0; i < loop->nwatchers; ++i) {
    uv__io_t* w = loop->watchers[i];
    if (w == nullptr || IsLoopInternal(loop, w)) continue;
    w->pevents = 0;
    w->events = 0;
    QueueRemove(&w->watcher_queue);
    QueueRemove(&w->pending_queue);
    loop->watchers[i] = nullptr;
    if (loop->nfds > 0) --loop->nfds;
  }
  // Requests in flight at fork time (threadpool work, writes on detached
  // watchers) never complete in the child; they must not keep it alive.
  loop->active_reqs.count = 0;
  // Work the pool finished for the parent but the parent's loop had not
  // yet called back is the parent's: its callbacks must not run here (they
  // would find active_reqs at 0 and abort). A pool thread may have held
  // the queue's mutex at fork time, so it starts afresh too.
  if (uv_mutex_init(&loop->wq_mutex) != 0) return UV_ENOMEM;
  QueueInit(&loop->wq);
  // An async handle sent in the parent but not yet run there stays
  // "pending" in the copy, and uv_async_send() skips the wake-up of a
  // pending handle: the child's own threadpool completions (wq_async) and
  // platform tasks would wait for some unrelated event (seconds) to be seen.
  loop->wq_async.pending = 0;

  int err = uv_loop_fork(loop);
  if (err != 0) return err;

  uv_walk(
      loop,
      [](uv_handle_t* handle, void*) {
        if (handle->type == UV_ASYNC) reinterpret_cast<uv_async_t*>(handle)->pending = 0;
        if (uv_is_closing(handle)) return;
        // Node keeps the loop alive for setImmediate() by starting and
        // stopping an idle handle that stays ref'd (ToggleImmediateRef);
        // unref'd, the child's own immediates could not keep it alive. The
        // parent's pending immediates are dropped in JS, which stops it.
        if (handle->type == UV_IDLE) return;
        // uv_loop_fork gave the child its own inotify instance with the
        // parent's watches re-added; stopping them here touches only ours.
        if (handle->type == UV_FS_EVENT) uv_fs_event_stop(reinterpret_cast<uv_fs_event_t*>(handle));
        if (handle->type == UV_FS_POLL) uv_fs_poll_stop(reinterpret_cast<uv_fs_poll_t*>(handle));
        uv_unref(handle);
      },
      nullptr);
  return 0;
}

bool RunLoopOnce(uv_loop_t* loop) {
  if (g_keepalive == nullptr) {
    g_keepalive = new uv_async_t;
    uv_async_init(loop, g_keepalive, [](uv_async_t*) {});
    uv_unref(reinterpret_cast<uv_handle_t*>(g_keepalive));
  }
  // The parent's JS timers were dropped with their ref count
  // (lib/child/node_internals.ts), so Node refs its timer handle again
  // for the child's own timers; unref'd timers (V8's delayed platform tasks,
  // such as the memory reducer) do not keep the child alive.
  bool alive = uv_loop_alive(loop);
  if (!alive) return false;
  // The keepalive lets UV_RUN_ONCE block in the poll until the next timer
  // or I/O instead of returning at once when only unref'd timers remain.
  uv_ref(reinterpret_cast<uv_handle_t*>(g_keepalive));
  uv_run(loop, UV_RUN_ONCE);
  uv_unref(reinterpret_cast<uv_handle_t*>(g_keepalive));
  return true;
}

}  // namespace mp
