// The empty module bench/startup forks with child_process.fork.
export {};
