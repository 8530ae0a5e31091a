// Imported last by lib/index.ts: lazy compilation back on for the user's code
// (see eager_begin.ts).
import { setFlagsFromString } from 'node:v8';

import { switchedToEager } from './eager_begin';

if (switchedToEager) setFlagsFromString('--lazy');
