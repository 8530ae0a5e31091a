// The connection layer's face for the rest of the package (not the user's
// API): one framing and one outbox, for queues and anything else that moves
// frames over a socket it shares with other processes.
export { closeAll, LARGEST_MESSAGE, leftOutOfStep, messageSizeLimit, readFrame, readFrameSync, type Frame, type Oversize } from './framing';
export { Outbox, trackPending, untrackPending, type PendingWrites } from './outbox';
export { whenReady } from './readiness';
