// Imported last by lib/index.ts: lazy compilation back on for the user's code
// (see eager_begin.ts).
import { endEagerCompilation } from './eager_begin';

endEagerCompilation();
