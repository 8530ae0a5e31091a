// The connection layer's face for the rest of the package (not the user's
// API): one framing and one outbox, for queues and anything else that moves
// frames over a socket it shares with other processes.
export { checkLength, closeAll, DOORBELL, LARGEST_MESSAGE, leftOutOfStep, messageSizeLimit, readFrame, readFrameSync, type Frame, type Oversize } from './framing';
export { Outbox, trackPending, untrackPending, type PendingWrites } from './outbox';
export { whenReady } from './readiness';
export { MAX_RING_MESSAGE, RingMemory, SPILL, type Ring } from './ring';
