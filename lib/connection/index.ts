// mp.connection (docs/API.md section 3; CPython's multiprocessing.connection).
export { Connection, Pipe, type ConnectionOptions, type PipeOptions } from './connection';
export { Client, Listener, type Address, type ClientOptions, type Family, type ListenerOptions } from './listener';
export { wait, type Waitable } from './wait';
