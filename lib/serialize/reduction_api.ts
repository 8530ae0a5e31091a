// mp.reduction: how values cross process boundaries, for code that adds
// its own kinds of objects (CPython's multiprocessing.reduction).
export { dumps, loads, loadsAsync, register, type Dumped, type Reducer, type ReduceContext, type ReviveContext } from './reduction';
