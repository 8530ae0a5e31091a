// The one way a reducer builds an object around parts that already exist
// (another process's semaphore, socket or condition): the class's
// constructor takes a Revival where its usual arguments go. The package
// does not export it, so user code cannot make one by accident, and no
// state waits in a module variable between a reducer and a constructor.
export class Revival<P> {
  constructor(readonly parts: P) {}
}
